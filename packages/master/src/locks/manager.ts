// Grants lock requests all-or-nothing in arrival order.
//
// A request takes every lock it asks for at once or none of them, so a waiter never holds
// a lock while it waits for another (no hold-and-wait, hence no deadlock among requests).
// Fairness is strict FIFO per lock: a waiting request reserves all its locks against
// later requests, so a later request may overtake it only on locks it does not touch.
// The oldest waiter therefore only ever waits for current holders and cannot starve.
import type { LockAccess, LockDefinition, LockMode } from './definitions.js';
import { LockRequestError, LockWaitAbortedError } from './errors.js';

/** One lock as a request sees it: the definition resolved for a worker. */
export interface HeldLockInfo {
  readonly key: string;
  readonly name: string;
  readonly worker?: string;
  readonly mode: LockMode;
  readonly count: number;
}

export interface LockRequestOptions {
  /** Who asks, shown to users ("build 12 of linux", "step compile"). */
  readonly owner: string;
  /** The worker the build runs on; needed for WorkerLock accesses. */
  readonly worker?: string;
  /** Aborting removes a waiting request from the queue and rejects it. */
  readonly signal?: AbortSignal;
  /** Called once, synchronously, when the request cannot be granted at once. */
  readonly onWaiting?: (locks: readonly HeldLockInfo[]) => void;
}

export type LockEvent =
  | { readonly type: 'waiting'; readonly owner: string; readonly locks: readonly HeldLockInfo[] }
  | {
      readonly type: 'acquired';
      readonly owner: string;
      readonly locks: readonly HeldLockInfo[];
      readonly waitedMs: number;
    }
  | { readonly type: 'released'; readonly owner: string; readonly locks: readonly HeldLockInfo[] }
  | { readonly type: 'abandoned'; readonly owner: string; readonly locks: readonly HeldLockInfo[] };

export interface WaitingRequest {
  readonly owner: string;
  readonly since: number;
  readonly locks: readonly HeldLockInfo[];
}

export interface LockHandle {
  readonly locks: readonly HeldLockInfo[];
  /** Releases every lock of the request; later calls do nothing. */
  release(): void;
}

interface LockState {
  capacity: number;
  exclusive: boolean;
  counted: number;
}

interface Waiter {
  readonly owner: string;
  readonly locks: readonly HeldLockInfo[];
  readonly since: number;
  readonly grant: (handle: LockHandle) => void;
  readonly abandon: () => void;
}

export class LockManager {
  readonly #states = new Map<string, LockState>();
  readonly #queue: Waiter[] = [];
  readonly #listeners = new Set<(event: LockEvent) => void>();
  readonly #now: () => number;
  #capacityGrew = false;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Observes waits, grants and releases (e.g. to show "waiting for locks" in the UI). */
  subscribe(listener: (event: LockEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Requests currently waiting, oldest first. */
  waiting(): WaitingRequest[] {
    return this.#queue.map((w) => ({ owner: w.owner, since: w.since, locks: w.locks }));
  }

  /** How a lock is held right now (for diagnostics and tests). */
  holders(
    name: string,
    worker?: string,
  ): { exclusive: boolean; counted: number; capacity: number } | undefined {
    const s = this.#states.get(lockKey(name, worker));
    return s && { exclusive: s.exclusive, counted: s.counted, capacity: s.capacity };
  }

  /** Takes all the accesses at once; resolves with a handle whose release() frees them. */
  acquire(accesses: readonly LockAccess[], options: LockRequestOptions): Promise<LockHandle> {
    const locks = this.#resolve(accesses, options);
    if (this.#capacityGrew) {
      this.#capacityGrew = false;
      this.#pump();
    }
    const { owner, signal } = options;
    if (signal?.aborted) {
      return Promise.reject(new LockWaitAbortedError(owner, describe(locks), { cause: signal.reason }));
    }
    if (locks.length === 0) return Promise.resolve({ locks, release: () => {} });
    if (this.#queue.length === 0 || !this.#touchesQueue(locks)) {
      if (this.#fits(locks)) {
        const handle = this.#take(owner, locks);
        this.#emit({ type: 'acquired', owner, locks, waitedMs: 0 });
        return Promise.resolve(handle);
      }
    }
    return new Promise<LockHandle>((resolve, reject) => {
      const since = this.#now();
      const onAbort = () => {
        const i = this.#queue.indexOf(waiter);
        if (i < 0) return;
        this.#queue.splice(i, 1);
        waiter.abandon();
        reject(new LockWaitAbortedError(owner, describe(locks), { cause: signal?.reason }));
        // Its reservations are gone, so requests behind it may now fit.
        this.#pump();
      };
      const waiter: Waiter = {
        owner,
        locks,
        since,
        grant: (handle) => {
          signal?.removeEventListener('abort', onAbort);
          this.#emit({ type: 'acquired', owner, locks, waitedMs: this.#now() - since });
          resolve(handle);
        },
        abandon: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#emit({ type: 'abandoned', owner, locks });
        },
      };
      this.#queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      options.onWaiting?.(locks);
      this.#emit({ type: 'waiting', owner, locks });
    });
  }

  #resolve(accesses: readonly LockAccess[], options: LockRequestOptions): HeldLockInfo[] {
    // The same lock named twice in one request is merged: exclusive wins, counts add up.
    const merged = new Map<string, HeldLockInfo>();
    for (const a of accesses) {
      const { key, worker, capacity } = this.#locate(a.lock, options);
      const count = a.mode === 'exclusive' ? capacity : (a.count ?? 1);
      if (!Number.isInteger(count) || count < 1) {
        throw new LockRequestError(options.owner, `lock ${a.lock.name}: count must be a positive integer`);
      }
      const prev = merged.get(key);
      const mode: LockMode = prev?.mode === 'exclusive' || a.mode === 'exclusive' ? 'exclusive' : 'counting';
      const total = mode === 'exclusive' ? capacity : (prev?.count ?? 0) + count;
      if (mode === 'counting' && total > capacity) {
        throw new LockRequestError(
          options.owner,
          `lock ${describeOne(a.lock.name, worker)}: ${total} units requested but its capacity is ${capacity}`,
        );
      }
      merged.set(key, {
        key,
        name: a.lock.name,
        ...(worker === undefined ? {} : { worker }),
        mode,
        count: total,
      });
    }
    return [...merged.values()];
  }

  #locate(
    lock: LockDefinition,
    options: LockRequestOptions,
  ): { key: string; worker?: string; capacity: number } {
    let worker: string | undefined;
    let capacity: number;
    if (lock.kind === 'worker') {
      if (options.worker === undefined) {
        throw new LockRequestError(options.owner, `worker lock ${lock.name} needs the build's worker`);
      }
      worker = options.worker;
      capacity = lock.capacityFor(worker);
    } else {
      capacity = lock.maxCount;
    }
    const key = lockKey(lock.name, worker);
    const state = this.#states.get(key);
    // The latest definition's capacity applies (reconfig); holders beyond it keep their units,
    // and a larger capacity may let waiters in.
    if (state) {
      if (capacity > state.capacity) this.#capacityGrew = true;
      state.capacity = capacity;
    } else this.#states.set(key, { capacity, exclusive: false, counted: 0 });
    return { key, ...(worker === undefined ? {} : { worker }), capacity };
  }

  #touchesQueue(locks: readonly HeldLockInfo[]): boolean {
    const keys = new Set(locks.map((l) => l.key));
    return this.#queue.some((w) => w.locks.some((l) => keys.has(l.key)));
  }

  #fits(locks: readonly HeldLockInfo[]): boolean {
    return locks.every((l) => {
      const s = this.#states.get(l.key)!;
      if (s.exclusive) return false;
      return l.mode === 'exclusive' ? s.counted === 0 : s.counted + l.count <= s.capacity;
    });
  }

  #take(owner: string, locks: readonly HeldLockInfo[]): LockHandle {
    for (const l of locks) {
      const s = this.#states.get(l.key)!;
      if (l.mode === 'exclusive') s.exclusive = true;
      else s.counted += l.count;
    }
    let released = false;
    return {
      locks,
      release: () => {
        if (released) return;
        released = true;
        for (const l of locks) {
          const s = this.#states.get(l.key)!;
          if (l.mode === 'exclusive') s.exclusive = false;
          else s.counted -= l.count;
        }
        this.#emit({ type: 'released', owner, locks });
        this.#pump();
      },
    };
  }

  /** Grants, in queue order, every waiter that fits and is not behind a waiter on its locks. */
  #pump(): void {
    const reserved = new Set<string>();
    for (let i = 0; i < this.#queue.length; ) {
      const w = this.#queue[i]!;
      if (!w.locks.some((l) => reserved.has(l.key)) && this.#fits(w.locks)) {
        this.#queue.splice(i, 1);
        w.grant(this.#take(w.owner, w.locks));
        continue;
      }
      for (const l of w.locks) reserved.add(l.key);
      i++;
    }
  }

  #emit(event: LockEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}

function lockKey(name: string, worker: string | undefined): string {
  return worker === undefined ? `master\u0000${name}` : `worker\u0000${name}\u0000${worker}`;
}

function describeOne(name: string, worker: string | undefined): string {
  return worker === undefined ? name : `${name}@${worker}`;
}

function describe(locks: readonly HeldLockInfo[]): string[] {
  return locks.map((l) => `${describeOne(l.name, l.worker)} (${l.mode})`);
}
