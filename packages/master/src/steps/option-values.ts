// Step options that must have a particular type once rendered. Properties often arrive as
// strings (`lathe force --prop timeout=30`, a change's properties), so a number, a boolean
// or a file mode given by a renderable is read from its usual text form too; anything
// else is an error naming the option, which makes the step EXCEPTION with that message.

import { type StepValue, stepValue } from './args.js';
import type { StepContext } from './contract.js';

/** A rendered step option has the wrong type or form. */
export class StepOptionError extends Error {
  override readonly name = 'StepOptionError';
  constructor(
    readonly option: string,
    readonly value: unknown,
    expected: string,
  ) {
    super(`step option ${option} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
  }
}

const NUMBER_TEXT = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

/** A number option (seconds, bytes…); `null` stays null where the option allows it. */
export async function stepNumber<N extends number | null>(
  value: StepValue<N>,
  ctx: StepContext,
  option: string,
): Promise<N> {
  const v: unknown = await stepValue(value, ctx);
  if (v === null) return v as N;
  if (typeof v === 'number' && Number.isFinite(v)) return v as N;
  if (typeof v === 'string' && NUMBER_TEXT.test(v)) return Number(v) as N;
  throw new StepOptionError(option, v, 'a number');
}

const TRUE_TEXT = new Set(['true', '1', 'yes', 'on']);
const FALSE_TEXT = new Set(['false', '0', 'no', 'off', '']);

export async function stepBoolean(
  value: StepValue<boolean | 0 | 1>,
  ctx: StepContext,
  option: string,
): Promise<boolean> {
  const v: unknown = await stepValue(value, ctx);
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (TRUE_TEXT.has(t)) return true;
    if (FALSE_TEXT.has(t)) return false;
  }
  throw new StepOptionError(option, v, 'true or false');
}

const MODE_TEXT = /^\s*(0o?)?([0-7]{1,4})\s*$/;

/**
 * A file mode: a number (`0o644`), or text read as octal the way chmod reads it
 * (`"644"`, `"0644"`, `"0o644"`): `"644"` as a decimal number would be a different mode.
 */
export async function stepMode(
  value: StepValue<number | null>,
  ctx: StepContext,
  option: string,
): Promise<number | null> {
  const v: unknown = await stepValue(value, ctx);
  if (v === null) return null;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0o7777) return v;
  const m = typeof v === 'string' ? MODE_TEXT.exec(v) : null;
  if (m) return Number.parseInt(m[2]!, 8);
  throw new StepOptionError(option, v, 'a file mode (e.g. 0o644 or "644")');
}

/** A string option (a directory, a file name); numbers are accepted as their text. */
export async function stepString<S extends string | null>(
  value: StepValue<S>,
  ctx: StepContext,
  option: string,
): Promise<S> {
  const v: unknown = await stepValue(value, ctx);
  if (v === null || typeof v === 'string') return v as S;
  if (typeof v === 'number') return String(v) as S;
  throw new StepOptionError(option, v, 'a string');
}
