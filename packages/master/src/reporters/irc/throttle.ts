// How often one user may ask the bot something. Each command costs the master database
// reads and the channel a few lines, so a user gets a small burst and then one command
// every few seconds; what is over is ignored without an answer (answering would be a
// flood of its own). The table of users is bounded: the least recently seen is forgotten.

export interface UserThrottleLimits {
  readonly burst: number;
  readonly intervalMs: number;
  /** Users remembered; the least recently seen beyond this is forgotten. */
  readonly maxUsers: number;
}

export class UserThrottle {
  /** Key → [tokens, when they were counted]; insertion order is recency. */
  readonly #users = new Map<string, [number, number]>();

  constructor(
    private readonly limits: UserThrottleLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `key` may run a command now (and counts it if so). */
  take(key: string): boolean {
    const now = this.now();
    const [tokens, at] = this.#users.get(key) ?? [this.limits.burst, now];
    const earned = Math.floor((now - at) / this.limits.intervalMs);
    const available = Math.min(this.limits.burst, tokens + earned);
    const since = earned > 0 ? at + earned * this.limits.intervalMs : at;
    this.#users.delete(key);
    this.#users.set(key, [Math.max(0, available - 1), available >= this.limits.burst ? now : since]);
    if (this.#users.size > this.limits.maxUsers) this.#users.delete(this.#users.keys().next().value!);
    return available > 0;
  }

  get size(): number {
    return this.#users.size;
  }
}
