/**
 * Warnings a peer can trigger at will — a malformed frame, a wrong password, a connection
 * that never logs in — must not let it fill the log and rotate the real messages away.
 */

import type { PBLogger } from './broker.js';

export interface RateLimitOptions {
  /** Warnings passed on per window; default 20. */
  maxPerWindow?: number;
  /** Default 60 s. */
  windowMs?: number;
  /** Starts the line that counts what was suppressed, e.g. `worker port: `. */
  prefix?: string;
  now?: () => number;
}

/**
 * Passes on at most `maxPerWindow` warnings per window; the rest are counted and reported
 * in one line when the window ends. Debug messages pass unchanged.
 */
export class RateLimitedLogger implements PBLogger {
  readonly #target: PBLogger;
  readonly #max: number;
  readonly #windowMs: number;
  readonly #prefix: string;
  readonly #now: () => number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #passed = 0;
  #suppressed = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(target: PBLogger, options: RateLimitOptions = {}) {
    this.#target = target;
    this.#max = options.maxPerWindow ?? 20;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#prefix = options.prefix ?? '';
    this.#now = options.now ?? Date.now;
    if (target.debug) this.debug = (message) => target.debug?.(message);
  }

  debug?: (message: string) => void;

  /** Warnings dropped since the last summary line. */
  get suppressed(): number {
    return this.#suppressed;
  }

  warn(message: string): void {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#reportSuppressed();
      this.#windowStart = now;
      this.#passed = 0;
    }
    if (this.#passed < this.#max) {
      this.#passed++;
      this.#target.warn(message);
      return;
    }
    this.#suppressed++;
    this.#timer ??= setTimeout(
      () => this.#reportSuppressed(),
      this.#windowStart + this.#windowMs - now,
    ).unref();
  }

  #reportSuppressed(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#suppressed === 0) return;
    this.#target.warn(
      `${this.#prefix}${this.#suppressed} more warnings suppressed (at most ${this.#max} per ${this.#windowMs / 1000} s)`,
    );
    this.#suppressed = 0;
  }
}
