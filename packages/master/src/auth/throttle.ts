// Failed logins counted per user name and per client address in a sliding window; once
// either reaches the limit, logins for it are refused (even with the right password) until
// the oldest failure leaves the window. A success clears the user's count, not the
// address's, so one valid account cannot be used to reset an address guessing others.
export interface ThrottleLimits {
  readonly attempts: number;
  readonly windowSeconds: number;
}

const MAX_KEYS = 100_000;

export class LoginThrottle {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds to wait before `user` may try from `address` again; 0 when allowed now. */
  retryAfter(user: string, address: string): number {
    const windowMs = this.limits.windowSeconds * 1000;
    let wait = 0;
    for (const key of [`user:${user}`, `addr:${address}`]) {
      const recent = this.#recent(key);
      if (recent.length >= this.limits.attempts)
        wait = Math.max(
          wait,
          Math.ceil((recent[recent.length - this.limits.attempts]! + windowMs - this.now()) / 1000),
        );
    }
    return wait;
  }

  failed(user: string, address: string): void {
    if (this.#failures.size >= MAX_KEYS) this.#prune();
    for (const key of [`user:${user}`, `addr:${address}`]) {
      const recent = this.#recent(key);
      recent.push(this.now());
      // Only the last `attempts` failures decide anything.
      this.#failures.set(key, recent.slice(-this.limits.attempts));
    }
  }

  succeeded(user: string): void {
    this.#failures.delete(`user:${user}`);
  }

  #recent(key: string): number[] {
    const since = this.now() - this.limits.windowSeconds * 1000;
    return (this.#failures.get(key) ?? []).filter((t) => t > since);
  }

  #prune(): void {
    for (const key of [...this.#failures.keys()])
      if (this.#recent(key).length === 0) this.#failures.delete(key);
    for (const key of this.#failures.keys()) {
      if (this.#failures.size < MAX_KEYS) break;
      this.#failures.delete(key);
    }
  }
}
