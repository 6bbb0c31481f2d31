/** Reading typed values out of command args, with errors Python would raise. */
import { BadArgsError } from '../protocol/failure.js';
import { reprText } from '../protocol/pyrepr.js';
import { asNumber, pyTruthy } from '../protocol/values.js';
import type { CommandArgs } from './command.js';

export function textArg(args: CommandArgs, key: string): string {
  const value = args[key];
  if (typeof value !== 'string') {
    throw new BadArgsError(`argument ${reprText(key)} must be text`, 'builtins.TypeError');
  }
  return value;
}

export function optionalTextArg(args: CommandArgs, key: string): string | undefined {
  const value = args[key];
  if (value === undefined || value === null) return undefined;
  return textArg(args, key);
}

/** A number, or null for None/absent; `fallback` only when the key is absent. */
export function numberArg(args: CommandArgs, key: string, fallback: number | null = null): number | null {
  if (!(key in args)) return fallback;
  const value = args[key];
  if (value === null || value === undefined) return null;
  const n = asNumber(value);
  if (n === undefined) {
    throw new BadArgsError(`argument ${reprText(key)} must be a number`, 'builtins.TypeError');
  }
  return n;
}

export function boolArg(args: CommandArgs, key: string, fallback: boolean): boolean {
  return key in args ? pyTruthy(args[key]) : fallback;
}
