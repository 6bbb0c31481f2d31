// Slows down password guessing on the worker port: after a few failed logins from one peer
// for one name, further attempts from that pair are refused for a while, doubling each time.
// Refusals look exactly like a wrong password (UnauthorizedLogin) so that a stock worker
// keeps retrying with its own backoff instead of giving up, and so that a guesser learns
// nothing. A successful login clears the record. Keyed by address *and* name, so a flood
// of failures from an address never delays another worker logging in from it; the records
// are bounded (least recently failed forgotten first), so neither can a flood of names.
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
  /** Most records kept; beyond it the least recently failed one is forgotten; default 10,000. */
  readonly maxRecords?: number;
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
      maxRecords: options.maxRecords ?? 10_000,
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

  /** Peer and name pairs with failures on record. */
  get size(): number {
    return this.#records.size;
  }

  failed(peer: string, username: string): void {
    const now = this.#o.now();
    const k = key(peer, username);
    const r = this.#records.get(k) ?? { failures: 0, lockedUntil: 0, lastSeen: now };
    r.failures++;
    r.lastSeen = now;
    const over = r.failures - this.#o.freeAttempts;
    if (over >= 0) r.lockedUntil = now + Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** over);
    // Re-inserted so that the map stays in order of last failure, oldest first.
    this.#records.delete(k);
    this.#records.set(k, r);
    this.#prune(now);
  }

  succeeded(peer: string, username: string): void {
    this.#records.delete(key(peer, username));
  }

  /** Drops idle records and any beyond the cap, oldest first: constant work per failure on average. */
  #prune(now: number): void {
    for (const [k, r] of this.#records) {
      const idle = now - r.lastSeen > this.#o.forgetAfterMs && r.lockedUntil <= now;
      if (!idle && this.#records.size <= this.#o.maxRecords) break;
      this.#records.delete(k);
    }
  }
}

function key(peer: string, username: string): string {
  return `${peer}\u0000${username}`;
}
