// The locks a build holds around its steps and each step around its own work, taken through
// locks/with-locks.ts so that they are released on every way out.
import type { LockAccess } from '../locks/definitions.js';
import type { LockManager } from '../locks/manager.js';
import { withLocks } from '../locks/with-locks.js';

export interface LockWait {
  /** Who asks, shown to users ("build 12 of linux"). */
  readonly owner: string;
  /** A stop while waiting ends the wait with LockWaitAbortedError. */
  readonly signal: AbortSignal;
  /** Records that the wait began (a state string); a failure is reported, not thrown. */
  readonly onWaiting: () => Promise<void>;
}

export class BuildLocks {
  constructor(
    private readonly manager: LockManager,
    /** The build's worker, for WorkerLock accesses. */
    private readonly worker: string,
    private readonly onError: (err: unknown, context: string) => void,
  ) {}

  /** Runs `fn` holding `accesses`; with none, runs it at once. */
  hold<T>(accesses: readonly LockAccess[], wait: LockWait, fn: () => Promise<T>): Promise<T> {
    if (accesses.length === 0) return fn();
    return withLocks(this.manager, accesses, fn, {
      owner: wait.owner,
      worker: this.worker,
      signal: wait.signal,
      onWaiting: () => {
        wait.onWaiting().catch((err) => this.onError(err, `${wait.owner}: recording the lock wait`));
      },
    });
  }
}
