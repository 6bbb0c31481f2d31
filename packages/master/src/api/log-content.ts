// A log's content through the data API: a range of lines (Buildbot's `logchunks`: lines
// as stored, stdio ones still starting with their stream letter o/e/h), its section
// markers, the whole text for download, and search (log-search.ts).
import type { DataLayer } from '../data/index.js';
import type { SectionMarker } from '../data/log-sections.js';
import type { LogRow } from '../data/logs.js';
import { ApiNotFoundError } from './data-api.js';
import { QueryError } from './query.js';

/** The most lines one /contents answer holds; ask again with a larger offset for more. */
export const MAX_CONTENT_LINES = 10_000;

export interface LogChunk {
  readonly logid: number;
  readonly firstline: number;
  /** The lines, each ending in '\n'. */
  readonly content: string;
}

export async function requireLog(data: DataLayer, logid: number): Promise<LogRow> {
  const log = await data.logs.get(logid);
  if (!log) throw new ApiNotFoundError(`/logs/${logid}`);
  return log;
}

/** Lines `offset` .. `offset + limit - 1` (clipped to the log and to MAX_CONTENT_LINES). */
export async function logContents(
  data: DataLayer,
  log: LogRow,
  range: { offset?: number; limit?: number },
): Promise<{ logchunks: LogChunk[]; meta: { total: number } }> {
  const logid = log.id;
  const offset = range.offset ?? 0;
  const limit = Math.min(range.limit ?? MAX_CONTENT_LINES, MAX_CONTENT_LINES);
  const last = Math.min(offset + limit, log.numLines) - 1;
  const lines = await data.logs.lines(logid, offset, last);
  const logchunks =
    lines.length === 0 ? [] : [{ logid, firstline: offset, content: `${lines.join('\n')}\n` }];
  return { logchunks, meta: { total: log.numLines } };
}

/** The most section markers one /sections answer holds (the viewer folds those). */
export const MAX_SECTION_MARKERS = 10_000;

/**
 * The log's section markers, recorded as it was written. `recorded: false` for a log
 * written before markers were recorded: a client searches it for them instead.
 */
export async function logSections(
  data: DataLayer,
  log: LogRow,
): Promise<{ markers: SectionMarker[]; meta: { recorded: boolean; truncated: boolean; total: number } }> {
  const { recorded, markers, truncated } = await data.logs.sectionMarkers(log.id, MAX_SECTION_MARKERS);
  return { markers, meta: { recorded, truncated, total: log.numLines } };
}

/** Reads `offset`/`limit` of a /contents query; anything else is a QueryError. */
export function contentRange(query: Readonly<Record<string, string | undefined>>): {
  offset?: number;
  limit?: number;
} {
  const out: { offset?: number; limit?: number } = {};
  for (const [param, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (param !== 'offset' && param !== 'limit')
      throw new QueryError(param, `unknown query parameter ${JSON.stringify(param)} (offset, limit)`);
    if (!/^\d{1,15}$/.test(value)) throw new QueryError(param, `${param} must be a non-negative integer`);
    out[param] = Number(value);
  }
  return out;
}
