// Server-side log search. Plain text is matched in process; a regular expression comes
// from the user and may backtrack for ever, so it runs in a worker thread that is
// terminated when the search takes too long: a bad pattern costs one thread, briefly,
// never the master's event loop.
import { Worker } from 'node:worker_threads';
import type { LogsData } from '../data/logs.js';

export interface LogSearch {
  readonly query: string;
  readonly regex: boolean;
  /** Case-insensitive; default false. */
  readonly ignoreCase?: boolean;
  /** Stop after this many matching lines. */
  readonly limit: number;
  /** Give up after this long (regex only); default 5 s. */
  readonly timeoutMs?: number;
  /** Stops the search (answered as truncated): the one who asked is gone. */
  readonly signal?: AbortSignal;
}

export interface LogSearchResult {
  /** Matching line numbers (0-based, as in /contents), ascending. */
  readonly lines: number[];
  /** True when `limit` or `signal` stopped the search before the end of the log. */
  readonly truncated: boolean;
}

export class LogSearchError extends Error {
  override readonly name = 'LogSearchError';
  constructor(
    message: string,
    /** 400 for a bad pattern, 422 for one that took too long. */
    readonly status: 400 | 422,
  ) {
    super(message);
  }
}

export const MAX_PATTERN_LENGTH = 1000;

// The worker: compiles the pattern, then answers each chunk with its matching offsets.
const MATCHER = `
const { parentPort, workerData } = require('node:worker_threads');
const re = new RegExp(workerData.source, workerData.flags);
parentPort.on('message', (lines) => {
  const hits = [];
  for (let i = 0; i < lines.length; i++) { re.lastIndex = 0; if (re.test(lines[i])) hits.push(i); }
  parentPort.postMessage(hits);
});
`;

export async function searchLog(logs: LogsData, logid: number, search: LogSearch): Promise<LogSearchResult> {
  if (search.query === '') throw new LogSearchError('the search text is empty', 400);
  if (search.query.length > MAX_PATTERN_LENGTH)
    throw new LogSearchError(`the search text is longer than ${MAX_PATTERN_LENGTH} characters`, 400);
  const flags = search.ignoreCase ? 'i' : '';
  let matcher: (lines: string[]) => Promise<number[]>;
  let close = async () => {};
  if (search.regex) {
    try {
      new RegExp(search.query, flags);
    } catch (err) {
      throw new LogSearchError(`not a regular expression: ${(err as Error).message}`, 400);
    }
    const worker = new Worker(MATCHER, { eval: true, workerData: { source: search.query, flags } });
    const timeoutMs = search.timeoutMs ?? 5000;
    const deadline = Date.now() + timeoutMs;
    close = async () => {
      await worker.terminate();
    };
    let pending: { resolve(hits: number[]): void; reject(err: unknown): void } | null = null;
    worker.on('message', (hits: number[]) => pending?.resolve(hits));
    worker.on('error', (err) => pending?.reject(err));
    matcher = (lines) =>
      new Promise<number[]>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new LogSearchError(`the search took longer than ${timeoutMs} ms`, 422)),
          Math.max(0, deadline - Date.now()),
        );
        pending = {
          resolve: (hits) => {
            clearTimeout(timer);
            resolve(hits);
          },
          reject: (err) => {
            clearTimeout(timer);
            reject(err);
          },
        };
        worker.postMessage(lines);
      });
  } else {
    const needle = search.ignoreCase ? search.query.toLowerCase() : search.query;
    matcher = async (lines) => {
      const hits: number[] = [];
      for (let i = 0; i < lines.length; i++)
        if ((search.ignoreCase ? lines[i]!.toLowerCase() : lines[i]!).includes(needle)) hits.push(i);
      return hits;
    };
  }
  const found: number[] = [];
  try {
    for await (const chunk of logs.lineChunks(logid)) {
      if (search.signal?.aborted) return { lines: found, truncated: true };
      for (const i of await matcher(chunk.lines)) {
        if (found.length === search.limit) return { lines: found, truncated: true };
        found.push(chunk.firstLine + i);
      }
    }
    return { lines: found, truncated: false };
  } finally {
    await close();
  }
}
