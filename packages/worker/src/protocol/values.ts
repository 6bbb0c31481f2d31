/**
 * The Python value shapes Buildbot expects on the wire, in one place.
 *
 * PB maps Python types onto JavaScript as follows (see @lathe/pb): `str` = string,
 * `bytes` = Uint8Array, `tuple` = PyTuple (an Array subclass), `list` = Array,
 * `float` = number (or PyFloat when integral), `None` = null. Everything in the
 * worker that needs a tuple or a float goes through this module, so a change in
 * how @lathe/pb spells them is a one-file change.
 */
import { float, PyFloat, PyTuple, tuple } from '@lathe/pb';

export { float, PyFloat, PyTuple, tuple };

/** Python `bytes`. */
export type Bytes = Uint8Array;

/** One update as a command produces it: key and value (`['stdout', 'text']`). */
export type Update = [key: string, value: unknown];

/** A tuple as a Python peer would unpack it. */
export function isTuple(value: unknown): value is PyTuple {
  return value instanceof PyTuple;
}

/** Python truthiness: masters send booleans, but also 0/1 ints (bb-worker #0199). */
export function pyTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false) return false;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'bigint') return value !== 0n;
  if (typeof value === 'string') return value.length > 0;
  if (value instanceof Uint8Array) return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof PyFloat) return value.value !== 0;
  if (value instanceof Map || value instanceof Set) return value.size > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return true;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A Python number (int or float) as a JavaScript number, or undefined. */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof PyFloat) return value.value;
  return undefined;
}

const utf8 = new TextDecoder('utf-8');

/**
 * The worker decodes every bytes value inside command args to text before use,
 * so a master may send either. Tuples stay tuples; anything that is not plain
 * data (remote references) is passed through untouched.
 */
export function decodeArgs(value: unknown): unknown {
  if (value instanceof Uint8Array) return utf8.decode(value);
  if (value instanceof PyTuple) return tuple(...value.map(decodeArgs));
  if (Array.isArray(value)) return value.map(decodeArgs);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = decodeArgs(v);
    return out;
  }
  return value;
}
