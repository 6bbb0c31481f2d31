// Slows down password guessing on the worker port: after a few failed logins from one peer
// for one name, further attempts from that pair are refused for a while, doubling each time.
// Refusals look exactly like a wrong password (UnauthorizedLogin) so that a stock worker
// keeps retrying with its own backoff instead of giving up, and so that a guesser learns
// nothing. A successful login clears the record.
import { UnauthorizedLogin } from '@lathe/pb';

export interface LoginThrottleOptions {
  /** Failures allowed before attempts are refused; default 5. */
  readonly freeAttempts?: number;
  /** First lock-out; doubles with every further failure; default 1 s. */
  readonly baseDelayMs?: number;
  /** Longest lock-out; default 60 s. */
  readonly maxDelayMs?: number;
  /** Records idle this long are forgotten; default 15 min. */
  readonly forgetAfterMs?: number;
  readonly now?: () => number;
}

interface Record_ {
  failures: number;
  lockedUntil: number;
  lastSeen: number;
}

/** Too many failed logins from this peer for this name; sent to the peer as UnauthorizedLogin. */
export class LoginThrottledError extends UnauthorizedLogin {
  constructor(
    readonly peer: string,
    readonly username: string,
    readonly retryInMs: number,
  ) {
    super();
  }
}

export class LoginThrottle {
  readonly #o: Required<LoginThrottleOptions>;
  readonly #records = new Map<string, Record_>();
  /** Refused attempts, for tests and metrics. */
  refused = 0;

  constructor(options: LoginThrottleOptions = {}) {
    this.#o = {
      freeAttempts: options.freeAttempts ?? 5,
      baseDelayMs: options.baseDelayMs ?? 1000,
      maxDelayMs: options.maxDelayMs ?? 60_000,
      forgetAfterMs: options.forgetAfterMs ?? 15 * 60_000,
      now: options.now ?? Date.now,
    };
  }

  /** Throws LoginThrottledError if `peer` may not try `username` now. */
  check(peer: string, username: string): void {
    const now = this.#o.now();
    const r = this.#records.get(key(peer, username));
    if (r && r.lockedUntil > now) {
      this.refused++;
      throw new LoginThrottledError(peer, username, r.lockedUntil - now);
    }
  }

  failed(peer: string, username: string): void {
    const now = this.#o.now();
    this.#prune(now);
    const k = key(peer, username);
    const r = this.#records.get(k) ?? { failures: 0, lockedUntil: 0, lastSeen: now };
    r.failures++;
    r.lastSeen = now;
    const over = r.failures - this.#o.freeAttempts;
    if (over >= 0) r.lockedUntil = now + Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** over);
    this.#records.set(k, r);
  }

  succeeded(peer: string, username: string): void {
    this.#records.delete(key(peer, username));
  }

  #prune(now: number): void {
    // Bounded memory under a flood of distinct names: drop idle records.
    if (this.#records.size < 1024) return;
    for (const [k, r] of this.#records) {
      if (now - r.lastSeen > this.#o.forgetAfterMs && r.lockedUntil <= now) this.#records.delete(k);
    }
  }
}

function key(peer: string, username: string): string {
  return `${peer}\u0000${username}`;
}
