import { errnoInfo } from '../protocol/errno.js';
import type { Update } from '../protocol/values.js';

/**
 * The updates Buildbot's fs commands send for an OSError: a header
 * `"<command>: <strerror>: <path>"` (no newline) and `rc` = errno.
 * Anything that is not a system error is rethrown and becomes a failure.
 */
export function osErrorUpdates(command: string, path: string, err: unknown): Update[] {
  const info = errnoInfo(err);
  if (!info) throw err;
  return [
    ['header', `${command}: ${info.strerror}: ${path}`],
    ['rc', info.errno],
  ];
}
