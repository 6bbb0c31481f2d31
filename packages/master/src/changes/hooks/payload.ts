// Reading fields of an untrusted JSON payload: each accessor names the path of a field
// that is missing or of the wrong type, which becomes the 400 answer.
import { MalformedPayloadError } from './errors.js';

type Obj = Record<string, unknown>;

export class Payload {
  private constructor(
    private readonly value: Obj,
    readonly path: string,
  ) {}

  /** The body as a JSON object. */
  static parse(body: Buffer): Payload {
    if (body.length === 0) throw new MalformedPayloadError('body', 'is empty');
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new MalformedPayloadError('body', `is not JSON (${(err as Error).message})`);
    }
    return Payload.of(value, 'body');
  }

  static of(value: unknown, path: string): Payload {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new MalformedPayloadError(path, 'must be an object');
    return new Payload(value as Obj, path);
  }

  #at(key: string): string {
    return `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  keys(): string[] {
    return Object.keys(this.value);
  }

  /** The object itself, for fields whose content is free-form (a change's properties). */
  record(): Readonly<Record<string, unknown>> {
    return this.value;
  }

  object(key: string): Payload {
    return Payload.of(this.value[key], this.#at(key));
  }

  optionalObject(key: string): Payload | undefined {
    return this.has(key) ? this.object(key) : undefined;
  }

  string(key: string): string {
    const v = this.value[key];
    if (typeof v !== 'string') throw new MalformedPayloadError(this.#at(key), 'must be a string');
    return v;
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  number(key: string): number {
    const v = this.value[key];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new MalformedPayloadError(this.#at(key), 'must be a number');
    return v;
  }

  boolean(key: string): boolean {
    return this.value[key] === true;
  }

  objects(key: string): Payload[] {
    const v = this.value[key];
    if (!Array.isArray(v)) throw new MalformedPayloadError(this.#at(key), 'must be a list');
    return v.map((item, i) => Payload.of(item, `${this.#at(key)}[${i}]`));
  }

  /** A list of strings; absent is empty. */
  strings(key: string): string[] {
    const v = this.value[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
      throw new MalformedPayloadError(this.#at(key), 'must be a list of strings');
    return v as string[];
  }

  /** An ISO 8601 time as epoch seconds. */
  time(key: string): number {
    const text = this.string(key);
    const ms = Date.parse(text);
    if (Number.isNaN(ms))
      throw new MalformedPayloadError(this.#at(key), `is not a time: ${JSON.stringify(text)}`);
    return Math.floor(ms / 1000);
  }
}

/** `Name <email>` as Buildbot writes people; just the name when there is no email. */
export function person(p: Payload): string {
  const name = p.optionalString('name') ?? p.optionalString('username') ?? '';
  const email = p.optionalString('email');
  return email ? `${name} <${email}>` : name;
}

/** Splits `refs/heads/x` / `refs/tags/x`; null for other refs (notes, pull refs). */
export function splitRef(ref: string): { kind: 'branch' | 'tag'; name: string } | null {
  if (ref.startsWith('refs/heads/')) return { kind: 'branch', name: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { kind: 'tag', name: ref.slice('refs/tags/'.length) };
  return null;
}

export const ZERO_SHA = /^0+$/;
