import { UsageError } from '../usage.js';

/** A build number or id from an argument, or a UsageError naming it. */
export function positiveInteger(value: string, what: string, help: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0)
    throw new UsageError(`${what} must be a positive integer, got ${JSON.stringify(value)}`, help);
  return n;
}
