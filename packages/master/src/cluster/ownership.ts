// The leases this master holds, renewed on every heartbeat. A lease whose renewal failed
// (another master took it after this one stalled) is dropped at once; if the database
// cannot be reached, every lease is dropped once it would have expired, so that this master
// never runs a scheduler after another may have taken it over.
import type { DataLayer } from '../data/index.js';

export interface LeaseChanges {
  readonly gained: readonly string[];
  readonly lost: readonly string[];
}

export class LeaseOwnership {
  #held = new Set<string>();
  #lastRenewed = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly data: DataLayer,
    private readonly masterid: number,
    private readonly leaseSeconds: number,
  ) {}

  get held(): ReadonlySet<string> {
    return this.#held;
  }

  /** Takes or renews each of `candidates`, gives up held leases no longer wanted. */
  async renew(candidates: readonly string[]): Promise<LeaseChanges> {
    const now = this.data.ctx.now();
    const next = new Set<string>();
    try {
      for (const name of candidates)
        if (await this.data.leases.acquire(name, this.masterid, this.leaseSeconds)) next.add(name);
      const unwanted = [...this.#held].filter((n) => !candidates.includes(n));
      await this.data.leases.release(this.masterid, unwanted);
    } catch (err) {
      // Keep what we hold while it is still ours for sure.
      if (now - this.#lastRenewed >= this.leaseSeconds) this.#set(new Set());
      throw err;
    }
    this.#lastRenewed = now;
    return this.#set(next);
  }

  /** Gives up every lease (a clean stop): others take over at their next heartbeat. */
  async releaseAll(): Promise<void> {
    this.#held = new Set();
    await this.data.leases.release(this.masterid);
  }

  #set(next: Set<string>): LeaseChanges {
    const gained = [...next].filter((n) => !this.#held.has(n));
    const lost = [...this.#held].filter((n) => !next.has(n));
    this.#held = next;
    return { gained, lost };
  }
}
