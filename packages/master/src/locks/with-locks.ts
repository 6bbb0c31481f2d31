// Runs a function while holding locks, releasing them on every exit path.
import type { LockAccess } from './definitions.js';
import type { LockManager, LockRequestOptions } from './manager.js';

/**
 * Waits for all `accesses`, runs `fn`, and releases the locks whether `fn` returns, throws
 * or the surrounding work is cancelled. If `options.signal` aborts while waiting, the
 * request leaves the queue and this rejects with LockWaitAbortedError without calling fn.
 */
export async function withLocks<T>(
  manager: LockManager,
  accesses: readonly LockAccess[],
  fn: () => T | Promise<T>,
  options: LockRequestOptions,
): Promise<T> {
  const handle = await manager.acquire(accesses, options);
  try {
    return await fn();
  } finally {
    handle.release();
  }
}
