// Flood protection for what the bot sends. IRC servers disconnect a client that sends too
// fast ("Excess Flood"), so lines leave through a token bucket: a short burst, then a
// steady pace. The queue is bounded overall and per target, so one chatty user (or a
// channel that asks for `status` in a loop) cannot grow memory or starve announcements.
import type { Clock, ClockTimer } from '../../schedulers/clock.js';

export interface OutgoingLine {
  readonly target: string;
  readonly text: string;
  readonly notice: boolean;
}

export interface FloodLimits {
  readonly burst: number;
  readonly intervalMs: number;
  readonly maxQueued: number;
  readonly maxQueuedPerTarget: number;
}

/** A line that was not sent: the queue was full, or the connection went away first. */
export class LineNotSentError extends Error {
  override readonly name = 'LineNotSentError';
}

interface Waiting {
  readonly line: OutgoingLine;
  resolve(): void;
  reject(err: Error): void;
}

export class LineQueue {
  readonly #waiting: Waiting[] = [];
  readonly #perTarget = new Map<string, number>();
  #tokens: number;
  #refilledAt: number;
  #timer: ClockTimer | null = null;

  constructor(
    private readonly write: (line: OutgoingLine) => void,
    private readonly limits: FloodLimits,
    private readonly clock: Clock,
  ) {
    this.#tokens = limits.burst;
    this.#refilledAt = clock.now();
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Resolves once the line is written; rejects with LineNotSentError if it never will be. */
  send(line: OutgoingLine): Promise<void> {
    const key = line.target.toLowerCase();
    const forTarget = this.#perTarget.get(key) ?? 0;
    if (this.#waiting.length >= this.limits.maxQueued || forTarget >= this.limits.maxQueuedPerTarget)
      return Promise.reject(
        new LineNotSentError(`flood protection: too many lines waiting to be sent to ${line.target}`),
      );
    this.#perTarget.set(key, forTarget + 1);
    const sent = new Promise<void>((resolve, reject) => this.#waiting.push({ line, resolve, reject }));
    this.#pump();
    return sent;
  }

  /** Drops every waiting line (the connection closed); their senders get `reason`. */
  clear(reason: string): void {
    this.#timer?.cancel();
    this.#timer = null;
    for (const w of this.#waiting.splice(0)) w.reject(new LineNotSentError(reason));
    this.#perTarget.clear();
  }

  #refill(): void {
    const now = this.clock.now();
    const earned = Math.floor((now - this.#refilledAt) / this.limits.intervalMs);
    if (earned <= 0) return;
    this.#tokens = Math.min(this.limits.burst, this.#tokens + earned);
    // A full bucket does not bank time; otherwise keep the remainder toward the next token.
    this.#refilledAt =
      this.#tokens === this.limits.burst ? now : this.#refilledAt + earned * this.limits.intervalMs;
  }

  #pump(): void {
    if (this.#timer) return;
    this.#refill();
    while (this.#waiting.length > 0 && this.#tokens > 0) {
      const next = this.#waiting.shift()!;
      const key = next.line.target.toLowerCase();
      const left = this.#perTarget.get(key)! - 1;
      if (left === 0) this.#perTarget.delete(key);
      else this.#perTarget.set(key, left);
      this.#tokens--;
      try {
        this.write(next.line);
        next.resolve();
      } catch (err) {
        next.reject(new LineNotSentError(`cannot send to ${next.line.target}: ${(err as Error).message}`));
      }
    }
    if (this.#waiting.length === 0) return;
    const wait = this.#refilledAt + this.limits.intervalMs - this.clock.now();
    this.#timer = this.clock.setTimer(() => {
      this.#timer = null;
      this.#pump();
    }, wait);
  }
}
