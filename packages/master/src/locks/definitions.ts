// Lock definitions as a configuration names them. A definition is only a name and a
// capacity; the LockManager owns the state. Two definitions with the same kind and name
// are the same lock (so a reconfig that rebuilds the objects keeps waiters and holders).

export type LockMode = 'exclusive' | 'counting';

export interface LockCapacity {
  /** How many counting holders may hold the lock at once (default 1). */
  readonly maxCount?: number;
}

export interface WorkerLockCapacity extends LockCapacity {
  /** Per-worker overrides of maxCount, as Buildbot's maxCountForWorker. */
  readonly maxCountForWorker?: Readonly<Record<string, number>>;
}

export interface LockAccess {
  readonly lock: LockDefinition;
  readonly mode: LockMode;
  /** Units of a counting lock taken (default 1); ignored for exclusive access. */
  readonly count?: number;
}

abstract class BaseLock {
  constructor(
    readonly name: string,
    readonly maxCount: number,
  ) {
    if (!name) throw new RangeError('a lock needs a name');
    if (!Number.isInteger(maxCount) || maxCount < 1) {
      throw new RangeError(`lock ${name}: maxCount must be a positive integer, got ${maxCount}`);
    }
  }

  access(mode: LockMode, count = 1): LockAccess {
    return { lock: this as unknown as LockDefinition, mode, count };
  }
}

/** One lock for the whole master. */
export class MasterLock extends BaseLock {
  readonly kind = 'master' as const;
  constructor(name: string, capacity: LockCapacity = {}) {
    super(name, capacity.maxCount ?? 1);
  }
}

/** One independent lock per worker, e.g. to limit concurrent builds on each machine. */
export class WorkerLock extends BaseLock {
  readonly kind = 'worker' as const;
  readonly maxCountForWorker: Readonly<Record<string, number>>;
  constructor(name: string, capacity: WorkerLockCapacity = {}) {
    super(name, capacity.maxCount ?? 1);
    this.maxCountForWorker = { ...capacity.maxCountForWorker };
    for (const [worker, n] of Object.entries(this.maxCountForWorker)) {
      if (!Number.isInteger(n) || n < 1) {
        throw new RangeError(`lock ${name}: maxCountForWorker[${worker}] must be a positive integer`);
      }
    }
  }

  capacityFor(worker: string): number {
    return this.maxCountForWorker[worker] ?? this.maxCount;
  }
}

export type LockDefinition = MasterLock | WorkerLock;

export function masterLock(name: string, capacity?: LockCapacity): MasterLock {
  return new MasterLock(name, capacity);
}

export function workerLock(name: string, capacity?: WorkerLockCapacity): WorkerLock {
  return new WorkerLock(name, capacity);
}
