// Log storage. Content is stored as chunks of whole lines, compressed when that saves
// space (log-chunks.ts), keyed by (logid, first_line) with lines numbered from 0 as in Buildbot.
// Stdio logs ('s') store each line prefixed by its stream: 'o' stdout, 'e' stderr,
// 'h' header. A chunk never holds more than MAX_CHUNK_LINES lines, which lets a line-range
// read bound its index scan to `first_line > first - MAX_CHUNK_LINES`.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { type DataContext, forUpdate } from './context.js';
import { LogClosedError, NotFoundError } from './errors.js';
import { ChunkEncoder, decodeChunk, type EncodedChunk } from './log-chunks.js';
import { findSectionMarkers, type SectionMarker, type SectionMarkerKind } from './log-sections.js';

export const MAX_CHUNK_LINES = 1000;
export const MAX_CHUNK_BYTES = 64 * 1024;
/** Rows of one multi-row insert of section markers (4 parameters each, under every limit). */
const MARKER_BATCH = 500;

export type LogType = 's' | 't' | 'h' | 'd';
export type LogStream = 'o' | 'e' | 'h';

export interface LogRow {
  readonly id: number;
  readonly name: string;
  readonly slug: string;
  readonly stepid: number;
  readonly complete: boolean;
  readonly numLines: number;
  readonly type: LogType;
}

export interface StdioLine {
  readonly stream: LogStream;
  readonly text: string;
}

function slugify(name: string): string {
  const s = name
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  return s === '' ? 'log' : s;
}

/** `name`'s slug, made unique among `used` (a `_2`, `_3`… suffix). */
function uniqueSlug(name: string, used: ReadonlySet<string>): string {
  const base = slugify(name);
  let slug = base;
  for (let i = 2; used.has(slug); i++) slug = `${base}_${i}`;
  return slug;
}

/** The slugs logs of these names got, added in this order. */
function slugsOf(names: readonly string[]): Set<string> {
  const used = new Set<string>();
  for (const n of names) used.add(uniqueSlug(n, used));
  return used;
}

/** Splits text of whole lines into lines, without their newlines. */
function splitLines(text: string): string[] {
  const lines = text.split('\n');
  lines.pop(); // the empty string after the final newline
  return lines;
}

type Row = {
  id: number;
  name: string;
  slug: string;
  stepid: number;
  complete: number;
  num_lines: number;
  type: string;
};

function toLog(r: Row): LogRow {
  return {
    id: r.id,
    name: r.name,
    slug: r.slug,
    stepid: r.stepid,
    complete: r.complete === 1,
    numLines: r.num_lines,
    type: r.type as LogType,
  };
}

export class LogsData {
  readonly #encoder = new ChunkEncoder();

  constructor(private readonly ctx: DataContext) {}

  /**
   * Adds a log to a step, its slug made unique within the step. `taken`: the names of the
   * step's logs so far, in the order they were added, from a caller that adds them all (a
   * running step): then one insert does, without locking the step to read its logs (the
   * unique constraint stays the guard).
   */
  async add(
    stepid: number,
    name: string,
    type: Exclude<LogType, 'd'>,
    taken?: readonly string[],
  ): Promise<number> {
    const { db, dialect } = this.ctx;
    const insert = async (trx: Kysely<Database>, used: Set<string>) => {
      const row = await trx
        .insertInto('logs')
        .values({
          name,
          slug: uniqueSlug(name, used),
          stepid,
          complete: 0,
          num_lines: 0,
          type,
          sections_recorded: 1,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    };
    const id = taken
      ? await insert(db, slugsOf(taken))
      : await db.transaction().execute(async (trx) => {
          await forUpdate(dialect, trx.selectFrom('steps').select('id').where('id', '=', stepid)).execute();
          const rows = await trx.selectFrom('logs').select('slug').where('stepid', '=', stepid).execute();
          return insert(trx, new Set(rows.map((r) => r.slug)));
        });
    this.ctx.bus.publish('log.new', { logid: id, stepid, name, type });
    return id;
  }

  async get(logid: number): Promise<LogRow | undefined> {
    const r = await this.ctx.db.selectFrom('logs').selectAll().where('id', '=', logid).executeTakeFirst();
    return r && toLog(r);
  }

  async forStep(stepid: number): Promise<LogRow[]> {
    const rows = await this.ctx.db
      .selectFrom('logs')
      .selectAll()
      .where('stepid', '=', stepid)
      .orderBy('id')
      .execute();
    return rows.map(toLog);
  }

  /**
   * Appends `text`, which must consist of whole lines each ending in '\n' (stdio logs:
   * each line starting with its stream letter). Returns the line numbers it got.
   */
  async append(logid: number, text: string): Promise<{ firstLine: number; lastLine: number } | undefined> {
    if (text === '') return undefined;
    if (!text.endsWith('\n')) throw new RangeError(`log ${logid}: appended text must end with a newline`);
    const lines = splitLines(text);
    // Encoded before the transaction: compressing does not need the database, and the
    // write lock is then held only for the inserts.
    const chunks: { lines: number; encoded: EncodedChunk }[] = [];
    let start = 0;
    while (start < lines.length) {
      let end = start;
      let bytes = 0;
      while (end < lines.length && end - start < MAX_CHUNK_LINES) {
        const len = Buffer.byteLength(lines[end]!) + 1;
        // A single line longer than a chunk still gets a chunk of its own.
        if (end > start && bytes + len > MAX_CHUNK_BYTES) break;
        bytes += len;
        end++;
      }
      const encoded = this.#encoder.encode(`${lines.slice(start, end).join('\n')}\n`);
      chunks.push({ lines: end - start, encoded });
      start = end;
    }
    // Numbered from 0 here; the log's current length is added under the lock.
    const markers = findSectionMarkers(lines, 0);
    const { db, dialect } = this.ctx;
    const range = await db.transaction().execute(async (trx) => {
      const log = await forUpdate(
        dialect,
        trx
          .selectFrom('logs')
          .select(['num_lines', 'complete', 'stepid', 'sections_recorded'])
          .where('id', '=', logid),
      ).executeTakeFirst();
      if (!log) throw new NotFoundError('log', logid);
      if (log.complete === 1) throw new LogClosedError(logid);
      let next = log.num_lines;
      const firstLine = next;
      for (const { lines: n, encoded } of chunks) {
        await trx
          .insertInto('logchunks')
          .values({ logid, first_line: next, last_line: next + n - 1, ...encoded })
          .execute();
        next += n;
      }
      // A log from before markers were recorded has none of its earlier ones: its
      // sections are found by searching it, and a partial list would only mislead.
      if (log.sections_recorded === 1)
        for (let i = 0; i < markers.length; i += MARKER_BATCH)
          await trx
            .insertInto('log_section_markers')
            .values(
              markers.slice(i, i + MARKER_BATCH).map((m) => ({ logid, ...m, line: firstLine + m.line })),
            )
            .execute();
      await trx.updateTable('logs').set({ num_lines: next }).where('id', '=', logid).execute();
      return { firstLine, lastLine: next - 1, stepid: log.stepid };
    });
    this.ctx.bus.publish('log.append', {
      logid,
      stepid: range.stepid,
      firstLine: range.firstLine,
      lastLine: range.lastLine,
    });
    return { firstLine: range.firstLine, lastLine: range.lastLine };
  }

  async finish(logid: number): Promise<void> {
    const log = await this.get(logid);
    if (!log) throw new NotFoundError('log', logid);
    await this.ctx.db.updateTable('logs').set({ complete: 1 }).where('id', '=', logid).execute();
    this.ctx.bus.publish('log.finished', { logid, stepid: log.stepid, numLines: log.numLines });
  }

  /**
   * Lines `first`..`last` (inclusive, 0-based) as stored; works while the log is still
   * being written. Only the chunks that overlap the range are read and decompressed.
   */
  async lines(logid: number, first: number, last: number): Promise<string[]> {
    if (last < first) return [];
    const chunks = await this.ctx.db
      .selectFrom('logchunks')
      .select(['first_line', 'last_line', 'content', 'compressed'])
      .where('logid', '=', logid)
      .where('first_line', '>', first - MAX_CHUNK_LINES)
      .where('first_line', '<=', last)
      .where('last_line', '>=', first)
      .orderBy('first_line')
      .execute();
    const out: string[] = [];
    for (const c of chunks) {
      const lines = splitLines(decodeChunk(c.content, c.compressed));
      const from = Math.max(first, c.first_line) - c.first_line;
      const to = Math.min(last, c.last_line) - c.first_line;
      for (let i = from; i <= to; i++) out.push(lines[i] ?? '');
    }
    return out;
  }

  /**
   * The log's section markers in line order, at most `limit` of them; `recorded` is false
   * for a log written before they were recorded (its markers are unknown, not absent).
   */
  async sectionMarkers(
    logid: number,
    limit: number,
  ): Promise<{ recorded: boolean; markers: SectionMarker[]; truncated: boolean }> {
    const log = await this.ctx.db
      .selectFrom('logs')
      .select('sections_recorded')
      .where('id', '=', logid)
      .executeTakeFirst();
    if (!log) throw new NotFoundError('log', logid);
    if (log.sections_recorded !== 1) return { recorded: false, markers: [], truncated: false };
    const rows = await this.ctx.db
      .selectFrom('log_section_markers')
      .select(['line', 'kind', 'title'])
      .where('logid', '=', logid)
      .orderBy('line')
      .limit(limit + 1)
      .execute();
    const markers = rows
      .slice(0, limit)
      .map((r) => ({ line: r.line, kind: r.kind as SectionMarkerKind, title: r.title }));
    return { recorded: true, markers, truncated: rows.length > limit };
  }

  /** Like `lines`, split into stream and text (for stdio logs). */
  async stdioLines(logid: number, first: number, last: number): Promise<StdioLine[]> {
    const lines = await this.lines(logid, first, last);
    return lines.map((l) => ({ stream: (l[0] ?? 'o') as LogStream, text: l.slice(1) }));
  }

  /**
   * The whole log as text, chunk by chunk, with stream prefixes removed from stdio logs
   * (what a "download raw log" serves). Memory stays at one page of chunks.
   */
  async *raw(logid: number, pageSize = 16): AsyncGenerator<string> {
    const log = await this.get(logid);
    if (!log) throw new NotFoundError('log', logid);
    let after = -1;
    for (;;) {
      const chunks = await this.ctx.db
        .selectFrom('logchunks')
        .select(['first_line', 'content', 'compressed'])
        .where('logid', '=', logid)
        .where('first_line', '>', after)
        .orderBy('first_line')
        .limit(pageSize)
        .execute();
      if (chunks.length === 0) return;
      for (const c of chunks) {
        const text = decodeChunk(c.content, c.compressed);
        if (log.type === 's') {
          yield text.replace(/^./gm, '');
        } else {
          yield text;
        }
        after = c.first_line;
      }
    }
  }

  /**
   * The log's lines in stored chunks, from the chunk holding `fromLine` on, with stream
   * prefixes removed from stdio logs (what a log search reads). Memory stays at one page.
   */
  async *lineChunks(
    logid: number,
    fromLine = 0,
    pageSize = 16,
  ): AsyncGenerator<{ firstLine: number; lines: string[] }> {
    const log = await this.get(logid);
    if (!log) throw new NotFoundError('log', logid);
    let after = fromLine - MAX_CHUNK_LINES;
    for (;;) {
      const chunks = await this.ctx.db
        .selectFrom('logchunks')
        .select(['first_line', 'last_line', 'content', 'compressed'])
        .where('logid', '=', logid)
        .where('first_line', '>', after)
        .orderBy('first_line')
        .limit(pageSize)
        .execute();
      if (chunks.length === 0) return;
      for (const c of chunks) {
        after = c.first_line;
        if (c.last_line < fromLine) continue;
        const lines = splitLines(decodeChunk(c.content, c.compressed));
        yield { firstLine: c.first_line, lines: log.type === 's' ? lines.map((l) => l.slice(1)) : lines };
      }
    }
  }

  /**
   * Retention: drops the content of logs whose step finished before `cutoff` (epoch
   * seconds), keeping the log, step and build rows. Returns how many logs were emptied.
   */
  async deleteContentOlderThan(cutoff: number): Promise<number> {
    const { db } = this.ctx;
    return db.transaction().execute(async (trx) => {
      const old = trx
        .selectFrom('logs')
        .innerJoin('steps', 'steps.id', 'logs.stepid')
        .select('logs.id')
        .where('steps.complete_at', '<', cutoff)
        .where('logs.type', '!=', 'd');
      await trx.deleteFrom('logchunks').where('logid', 'in', old).execute();
      await trx.deleteFrom('log_section_markers').where('logid', 'in', old).execute();
      const u = await trx.updateTable('logs').set({ type: 'd' }).where('id', 'in', old).executeTakeFirst();
      return Number(u.numUpdatedRows);
    });
  }

  async chunkCount(logid: number): Promise<number> {
    const r = await this.ctx.db
      .selectFrom('logchunks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('logid', '=', logid)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
