// Turns a step's output stream into stored log lines with bounded memory. Output arrives
// in arbitrary pieces per stream (a worker sends whatever its pipes gave it); complete lines
// are prefixed with their stream letter and buffered, and the buffer is written as chunks
// when it reaches `flushBytes` or after `flushIntervalMs`, so a crash loses at most that
// interval's output and a quiet step's output still becomes visible promptly.

import type { LogStream, LogsData } from '../data/logs.js';
import type { StepLog } from '../steps/contract.js';

export interface LogWriterOptions {
  readonly flushBytes?: number;
  readonly flushIntervalMs?: number;
  /** Longer lines are split, so one endless line cannot hold unbounded memory. */
  readonly maxLineLength?: number;
}

export class LogWriter implements StepLog {
  readonly #logs: LogsData;
  readonly #logid: number;
  readonly #stdio: boolean;
  readonly #flushBytes: number;
  readonly #flushIntervalMs: number;
  readonly #maxLine: number;
  /** Incomplete last line per stream. */
  readonly #partial = new Map<LogStream, string>();
  #buffer: string[] = [];
  #bufferedBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #failure: unknown;
  #finished = false;
  #flushPending = false;
  /** High-water mark of buffered bytes, for tests and metrics. */
  peakBufferedBytes = 0;

  constructor(logs: LogsData, logid: number, options: LogWriterOptions & { stdio?: boolean } = {}) {
    this.#logs = logs;
    this.#logid = logid;
    this.#stdio = options.stdio ?? true;
    this.#flushBytes = options.flushBytes ?? 64 * 1024;
    this.#flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.#maxLine = options.maxLineLength ?? 64 * 1024;
  }

  get logid(): number {
    return this.#logid;
  }

  /** Adds output; resolves once buffered memory is back under the threshold. */
  async write(stream: LogStream, data: string): Promise<void> {
    if (this.#finished) throw new Error(`log ${this.#logid}: write after finish`);
    this.#throwIfFailed();
    let text = (this.#partial.get(stream) ?? '') + data;
    let nl = text.indexOf('\n');
    let start = 0;
    while (nl >= 0) {
      this.#addLine(stream, text.slice(start, nl));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    text = text.slice(start);
    while (text.length > this.#maxLine) {
      this.#addLine(stream, text.slice(0, this.#maxLine));
      text = text.slice(this.#maxLine);
    }
    this.#partial.set(stream, text);
    if (this.#flushPending) {
      // Back-pressure: the caller waits until what it produced is in the database.
      this.#flushPending = false;
      await this.#writing;
    } else if (this.#bufferedBytes > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush().catch(() => {});
      }, this.#flushIntervalMs);
      this.#timer.unref();
    }
  }

  /** Writes all complete buffered lines to the database. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#buffer.length === 0) return this.#writing;
    const text = this.#buffer.join('');
    this.#buffer = [];
    this.#bufferedBytes = 0;
    // Appends are chained so lines reach the database in order.
    this.#writing = this.#writing.then(async () => {
      try {
        await this.#logs.append(this.#logid, text);
      } catch (err) {
        this.#failure ??= err;
        throw err;
      }
    });
    return this.#writing;
  }

  /** Terminates unfinished lines, flushes everything and marks the log complete. */
  async finish(): Promise<void> {
    if (this.#finished) return;
    for (const [stream, rest] of this.#partial) if (rest !== '') this.#addLine(stream, rest);
    this.#partial.clear();
    this.#finished = true;
    await this.flush();
    await this.#logs.finish(this.#logid);
  }

  #addLine(stream: LogStream, line: string): void {
    const stored = this.#stdio ? `${stream}${line}\n` : `${line}\n`;
    this.#buffer.push(stored);
    this.#bufferedBytes += stored.length;
    if (this.#bufferedBytes > this.peakBufferedBytes) this.peakBufferedBytes = this.#bufferedBytes;
    if (this.#bufferedBytes >= this.#flushBytes) {
      // Flushed from inside the line loop so one huge write becomes several chunks'
      // worth of appends instead of one giant buffered string.
      this.flush().catch(() => {});
      this.#flushPending = true;
    }
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }
}
