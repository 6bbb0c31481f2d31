/**
 * Collects a command's updates and hands them on in batches, bounded by size
 * and by time, never reordered.
 *
 * Output (`stdout`, `stderr`, `header`, `log`) is sent as whole lines; adjacent
 * pieces of the same stream are joined into one update. A batch goes out when
 * adding to it would exceed `maxBatchSize` characters, when the oldest entry has
 * waited long enough, or on `flush()`. One batch may carry several updates in one
 * `update` call, which Buildbot masters accept.
 *
 * How long is long enough: the command's first batch goes out `firstDelayMs` after its
 * first update, later ones at most `maxDelayMs` after theirs. buildbot-worker 3.7 waits up
 * to 5 s, and whatever a killed worker held back is lost with it — a step that printed for
 * a second before the kill kept nothing. A short first wait shows that a step has started
 * talking; a 1 s bound keeps what is lost small while output that arrives faster than that
 * still travels in few, large (64 KiB) batches.
 */

import { tuple, type Update } from '../protocol/values.js';
import { LineSplitter } from './line-splitter.js';

export interface BatcherOptions {
  /** Upper bound of a batch in characters of text (non-text updates count 20). */
  maxBatchSize?: number;
  /** Longest time an update waits before its batch is sent. */
  maxDelayMs?: number;
  /** Longest time the first update waits (capped by `maxDelayMs`). */
  firstDelayMs?: number;
  /** Lines longer than this are broken. */
  maxLineLength?: number;
}

export const DEFAULT_MAX_BATCH_SIZE = 64 * 1024;
export const DEFAULT_MAX_DELAY_MS = 1000;
export const DEFAULT_FIRST_DELAY_MS = 50;

const textKeys = new Set(['stdout', 'stderr', 'header']);
/** Size charged to an update that is not text, as the Python worker does. */
const NON_TEXT_SIZE = 20;

type Entry = { key: string; logName?: string; text?: string; value?: unknown };

export class UpdateBatcher {
  private readonly maxBatchSize: number;
  private readonly maxDelayMs: number;
  private readonly firstDelayMs: number;
  private sentAny = false;
  private readonly maxLineLength: number | undefined;
  private readonly splitters = new Map<string, LineSplitter>();
  private pending: Entry[] = [];
  private pendingSize = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (batch: Update[]) => void,
    options: BatcherOptions = {},
  ) {
    this.maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    this.firstDelayMs = Math.min(options.firstDelayMs ?? DEFAULT_FIRST_DELAY_MS, this.maxDelayMs);
    this.maxLineLength = options.maxLineLength;
  }

  add(updates: Update[]): void {
    for (const [key, value] of updates) {
      if (textKeys.has(key) && typeof value === 'string') {
        this.addText(key, undefined, value);
      } else if (key === 'log' && Array.isArray(value) && typeof value[0] === 'string') {
        this.addText('log', value[0], typeof value[1] === 'string' ? value[1] : String(value[1]));
      } else {
        this.append({ key, value }, NON_TEXT_SIZE);
      }
    }
  }

  /**
   * Sends everything held back, including unterminated last lines (with a
   * newline added). Call once when the command is over.
   */
  flush(): void {
    const names = [...this.splitters.keys()].sort();
    for (const name of names) {
      const rest = this.splitters.get(name)!.flush();
      if (rest !== '') {
        const [key, logName] = splitStreamName(name);
        this.appendText(key, logName, rest);
      }
    }
    this.sendPending();
  }

  /** Drops everything without sending (the master is gone). */
  discard(): void {
    this.clearTimer();
    this.pending = [];
    this.pendingSize = 0;
    this.splitters.clear();
  }

  private addText(key: string, logName: string | undefined, text: string): void {
    const name = logName === undefined ? key : `log:${logName}`;
    let splitter = this.splitters.get(name);
    if (!splitter) {
      splitter = new LineSplitter(this.maxLineLength);
      this.splitters.set(name, splitter);
    }
    const lines = splitter.push(text);
    if (lines !== '') this.appendText(key, logName, lines);
  }

  private appendText(key: string, logName: string | undefined, text: string): void {
    // A text larger than a whole batch goes out in line-aligned pieces.
    while (text.length > this.maxBatchSize) {
      let cut = text.lastIndexOf('\n', this.maxBatchSize - 1) + 1;
      if (cut <= 0) cut = this.maxBatchSize;
      this.appendText(key, logName, text.slice(0, cut));
      text = text.slice(cut);
    }
    if (this.pendingSize + text.length > this.maxBatchSize) this.sendPending();
    const tail = this.pending.at(-1);
    if (tail && tail.key === key && tail.logName === logName && tail.text !== undefined) {
      tail.text += text;
      this.pendingSize += text.length;
      return;
    }
    this.append({ key, logName, text }, text.length);
  }

  private append(entry: Entry, size: number): void {
    if (this.pendingSize + size > this.maxBatchSize) this.sendPending();
    this.pending.push(entry);
    this.pendingSize += size;
    if (!this.timer) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.sendPending();
        },
        this.sentAny ? this.maxDelayMs : this.firstDelayMs,
      );
    }
  }

  private sendPending(): void {
    this.clearTimer();
    if (this.pending.length === 0) return;
    const batch: Update[] = this.pending.map((e) => {
      if (e.text === undefined) return [e.key, e.value];
      return e.logName === undefined ? [e.key, e.text] : ['log', tuple(e.logName, e.text)];
    });
    this.pending = [];
    this.pendingSize = 0;
    this.sentAny = true;
    this.send(batch);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function splitStreamName(name: string): [string, string | undefined] {
  return name.startsWith('log:') ? ['log', name.slice(4)] : [name, undefined];
}
