/** The waiter gave up (its AbortSignal fired) before it got its locks. */
export class LockWaitAbortedError extends Error {
  override readonly name = 'LockWaitAbortedError';
  constructor(
    readonly owner: string,
    readonly locks: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`${owner}: stopped waiting for locks ${locks.join(', ')}`, options);
  }
}

/** A request that could never be granted (e.g. counting more units than the lock has). */
export class LockRequestError extends Error {
  override readonly name = 'LockRequestError';
  constructor(
    readonly owner: string,
    message: string,
  ) {
    super(`${owner}: ${message}`);
  }
}
