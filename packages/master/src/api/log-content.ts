// A log's content through the data API: a range of lines (Buildbot's `logchunks`: lines
// as stored, stdio ones still starting with their stream letter o/e/h), the whole text
// for download, and search (log-search.ts).
import type { DataLayer } from '../data/index.js';
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
