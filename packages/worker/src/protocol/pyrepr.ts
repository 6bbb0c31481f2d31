/**
 * Python's `repr()` for the few value kinds that appear in Buildbot's shell
 * headers (` argv: [b'echo', b'hi']`, ` watching logfiles {'a': 'a.txt'}`) and
 * timeout messages. Masters show these texts verbatim, so they must read exactly
 * as a Python worker writes them.
 */
import { isPlainObject, PyFloat, PyTuple } from './values.js';

const encoder = new TextEncoder();

export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return reprText(value);
  if (value instanceof Uint8Array) return reprBytes(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return reprNumber(value);
  if (value instanceof PyFloat) return reprFloat(value.value);
  if (value instanceof PyTuple) {
    const items = value.map(pyRepr);
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (isPlainObject(value)) {
    const items = Object.entries(value).map(([k, v]) => `${reprText(k)}: ${pyRepr(v)}`);
    return `{${items.join(', ')}}`;
  }
  return String(value);
}

/** Python's `str()` of a number that came over the wire (ints and floats differ). */
export function pyStr(value: unknown): string {
  if (typeof value === 'string') return value;
  return pyRepr(value);
}

function reprNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : reprFloat(n);
}

function reprFloat(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  // Shortest round-tripping digits, laid out by CPython's rule: positional for
  // exponents in [-4, 16), scientific with a two-digit exponent otherwise.
  const [mantissa, expText] = Math.abs(n).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  const sign = n < 0 ? '-' : '';
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    return `${sign}${intPart}.${frac || '0'}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return `${sign}${m}e${e}`;
}

/** Picks quotes the way CPython does: single, unless the text has ' and no ". */
function quoteFor(hasSingle: boolean, hasDouble: boolean): string {
  return hasSingle && !hasDouble ? '"' : "'";
}

export function reprText(s: string): string {
  const quote = quoteFor(s.includes("'"), s.includes('"'));
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp >= 0x80 && cp < 0xa0) out += `\\x${hex(cp, 2)}`;
    else if (cp >= 0xd800 && cp < 0xe000) out += `\\u${hex(cp, 4)}`;
    else out += ch;
  }
  return out + quote;
}

export function reprBytes(b: Uint8Array | string): string {
  const bytes = typeof b === 'string' ? encoder.encode(b) : b;
  const hasSingle = bytes.includes(0x27);
  const hasDouble = bytes.includes(0x22);
  const quote = quoteFor(hasSingle, hasDouble);
  let out = `b${quote}`;
  for (const byte of bytes) {
    const ch = String.fromCharCode(byte);
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte === 0x09) out += '\\t';
    else if (byte < 0x20 || byte >= 0x7f) out += `\\x${hex(byte, 2)}`;
    else out += ch;
  }
  return out + quote;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
