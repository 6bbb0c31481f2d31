// Access to the golden PB traces in fixtures/pb-traces at the repository root.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BananaValue, vocabToken } from '../src/banana.js';
import { PyFloat } from '../src/values.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
export const TRACE_DIR = resolve(repoRoot, 'fixtures/pb-traces');

if (!existsSync(TRACE_DIR)) throw new Error(`PB traces not found at ${TRACE_DIR}`);

export type Dir = 'c2s' | 's2c';
export interface TraceElement {
  n: number;
  dir: Dir;
  start: number;
  end: number;
  value: unknown;
}

export interface Trace {
  name: string;
  bytes: Record<Dir, Buffer>;
  elements: TraceElement[];
  chunks: Array<[number, Dir, number, number, number]>;
}

export function traceNames(): string[] {
  return readdirSync(TRACE_DIR)
    .filter((f) => f.endsWith('.elements.json'))
    .map((f) => f.replace('.elements.json', ''))
    .sort();
}

export function loadTrace(name: string): Trace {
  const read = (suffix: string) => readFileSync(join(TRACE_DIR, `${name}.${suffix}`));
  const chunks = read('chunks.jsonl')
    .toString()
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l))
    .filter((c) => Array.isArray(c) && c.length === 5);
  return {
    name,
    bytes: { c2s: read('c2s.bin'), s2c: read('s2c.bin') },
    elements: JSON.parse(read('elements.json').toString()),
    chunks,
  };
}

/** Converts the typed JSON of elements.json into the values our decoder produces. */
export function fromTypedJson(v: unknown): BananaValue {
  if (Array.isArray(v)) return v.map(fromTypedJson);
  const o = v as Record<string, string>;
  if ('str' in o) return Buffer.from(o.str!, 'hex');
  if ('vocab' in o) {
    const token = vocabToken(Number(o.vocab));
    if (!token || token.word !== o.word) throw new Error(`vocab ${o.vocab} is not ${o.word}`);
    return token;
  }
  if ('int' in o) {
    const b = BigInt(o.int!);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  }
  if ('float' in o) {
    const f = Buffer.from(o.float!, 'hex').readDoubleBE(0);
    return Number.isInteger(f) ? new PyFloat(f) : f;
  }
  throw new Error(`unknown typed JSON ${JSON.stringify(v)}`);
}
