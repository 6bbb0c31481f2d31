/**
 * Jelly: the mapping between object graphs and Banana s-expressions.
 *
 * Every Python value Jelly knows travels as either an atom (int, float, bytes) or a
 * "typed list" whose first item is a tag: `['None']`, `['unicode', utf8]`,
 * `['list', …]`, `['tuple', …]`, `['dictionary', [k, v], …]`, and so on. The
 * JavaScript side of the mapping is documented in `values.ts`.
 *
 * Shared and cyclic structure: within one jelly call, a container met a second time
 * turns its first occurrence into `['reference', id, form]` and every later one into
 * `['dereference', id]`, with ids counted from 1 in order of discovery — exactly as
 * Twisted does, so that our output is byte-identical to theirs.
 *
 * Unjellying is whitelist-only. The built-in tags below and the copy tags registered
 * with {@link registerRemoteCopy} are understood; anything else raises
 * {@link InsecureJelly}, and no tag ever names code to run.
 */

import { type BananaValue, Token, Utf8 } from './banana.js';
import {
  PyDate,
  PyDateTime,
  PyDecimal,
  PyFloat,
  PyFrozenSet,
  PyTime,
  PyTimedelta,
  PyTuple,
  Unpersistable,
} from './values.js';

/** A tag (or structure) the receiver does not allow. Twisted's `jelly.InsecureJelly`. */
export class InsecureJelly extends Error {
  override name = 'InsecureJelly';
  readonly pythonType = 'twisted.spread.jelly.InsecureJelly';
}

/** A value that cannot be expressed in Jelly (e.g. a cyclic reference to a missing id). */
export class JellyError extends Error {
  override name = 'JellyError';
}

const enc = (s: string) => Buffer.from(s, 'latin1');
const tok = (s: string) => new Token(s);
// Pre-encoded tags: encoding them once keeps the hot path free of allocation.
export const T = {
  None: tok('None'),
  unicode: tok('unicode'),
  boolean: tok('boolean'),
  true: tok('true'),
  false: tok('false'),
  list: tok('list'),
  tuple: tok('tuple'),
  dictionary: tok('dictionary'),
  set: tok('set'),
  frozenset: tok('frozenset'),
  reference: tok('reference'),
  dereference: tok('dereference'),
  datetime: tok('datetime'),
  date: tok('date'),
  time: tok('time'),
  timedelta: tok('timedelta'),
  decimal: tok('decimal'),
  unpersistable: tok('unpersistable'),
} as const;

/**
 * An object sent by copy: the receiver gets an instance of the class it registered
 * for the same tag, rebuilt from the state. Twisted's `pb.Copyable`.
 *
 * @example
 * class Thing extends Copyable {
 *   static override copyTag = 'pbtypes.Thing';
 *   constructor(public name: string, public values: number[]) { super(); }
 * }
 */
export class Copyable {
  /** The tag on the wire; by default the class name. Python peers use `module.Class`. */
  static copyTag?: string;
  getTypeToCopy(): string {
    const ctor = this.constructor as typeof Copyable;
    return ctor.copyTag ?? ctor.name;
  }
  /** The state to send; by default the object's own enumerable properties. */
  getStateToCopy(_perspective: unknown): unknown {
    return { ...this };
  }
}

/**
 * The receiving side of a {@link Copyable}: registered under a tag, created empty,
 * then filled by `setCopyableState`. Twisted's `pb.RemoteCopy`.
 */
export class RemoteCopy {
  setCopyableState(state: unknown): void {
    if (state && typeof state === 'object' && !(state instanceof Map)) Object.assign(this, state);
  }
}

/** What can be registered for a copy tag: a class with a no-argument constructor. */
export type Unjellyable = new () => { setCopyableState(state: unknown): void };

const registry = new Map<string, Unjellyable>();

/**
 * Allows `tag` in incoming data and rebuilds it as an instance of `cls`. This is the
 * whitelist: nothing dotted is accepted unless registered here.
 */
export function registerRemoteCopy(tag: string, cls: Unjellyable): void {
  registry.set(tag, cls);
}

export function unregisterRemoteCopy(tag: string): void {
  registry.delete(tag);
}

export function remoteCopyClass(tag: string): Unjellyable | undefined {
  return registry.get(tag);
}

/** Keyword arguments for a remote call; see `RemoteReference.callRemote`. */
export class Kwargs {
  constructor(readonly values: Record<string, unknown>) {}
}

/** Marks the last argument of `callRemote` as Python keyword arguments. */
export function kwargs(values: Record<string, unknown>): Kwargs {
  return new Kwargs(values);
}

/**
 * What a broker adds to Jelly: objects that only make sense on a connection
 * (references, caches). Pure Jelly works without one.
 */
export interface FlavorCodec {
  /** The wire form of a connection-bound object, or undefined if `value` is not one. */
  jellyFlavor(value: object, jellier: Jellier): BananaValue | undefined;
  /** Builds the value for a connection-bound tag, or returns undefined if `tag` is not one. */
  unjellyFlavor(tag: string, form: BananaValue[], unjellier: Unjellier): { value: unknown } | undefined;
}

interface Seen {
  sexp: BananaValue[];
  refId: number;
  done: boolean;
}

/** One jelly call: turns one value into an s-expression. */
export class Jellier {
  /** Containers met so far; created on first use, as most calls carry only scalars. */
  private seen: Map<object, Seen> | undefined;
  private nextRefId = 1;
  constructor(
    readonly flavors?: FlavorCodec,
    readonly perspective?: unknown,
  ) {}

  jelly(value: unknown): BananaValue {
    switch (typeof value) {
      case 'number':
      case 'bigint':
        return value;
      case 'string':
        return [T.unicode, new Utf8(value)];
      case 'boolean':
        return [T.boolean, value ? T.true : T.false];
      case 'undefined':
        return [T.None];
      case 'object':
        break;
      default:
        return this.unpersistable(value);
    }
    if (value === null) return [T.None];
    if (value instanceof Uint8Array || value instanceof PyFloat) return value;
    if (value instanceof Token || value instanceof Utf8) return value;
    const prior = this.seen?.get(value);
    if (prior) return this.dereference(prior);
    if (Array.isArray(value)) {
      return this.container(value, value instanceof PyTuple ? T.tuple : T.list, (out) => {
        for (const item of value) out.push(this.jelly(item));
      });
    }
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      return this.container(value, T.dictionary, (out) => {
        for (const key of Object.keys(value)) {
          out.push([[T.unicode, new Utf8(key)], this.jelly((value as Record<string, unknown>)[key])]);
        }
      });
    }
    if (value instanceof Map) {
      return this.container(value, T.dictionary, (out) => {
        for (const [k, v] of value) out.push([this.jelly(k), this.jelly(v)]);
      });
    }
    if (value instanceof Set) {
      return this.container(value, value instanceof PyFrozenSet ? T.frozenset : T.set, (out) => {
        for (const item of value) out.push(this.jelly(item));
      });
    }
    if (value instanceof Copyable) {
      return this.container(value, enc(value.getTypeToCopy()), (out) => {
        out.push(this.jelly(value.getStateToCopy(this.perspective)));
      });
    }
    const flavored = this.flavors?.jellyFlavor(value, this);
    if (flavored !== undefined) return flavored;
    return this.jellyValueClass(value);
  }

  private jellyValueClass(value: object): BananaValue {
    if (value instanceof PyDateTime) {
      const v = value;
      return [
        T.datetime,
        enc(`${v.year} ${v.month} ${v.day} ${v.hour} ${v.minute} ${v.second} ${v.microsecond}`),
      ];
    }
    if (value instanceof Date) {
      const d = value;
      const s = `${d.getUTCFullYear()} ${d.getUTCMonth() + 1} ${d.getUTCDate()} ${d.getUTCHours()} ${d.getUTCMinutes()} ${d.getUTCSeconds()} ${d.getUTCMilliseconds() * 1000}`;
      return [T.datetime, enc(s)];
    }
    if (value instanceof PyDate) return [T.date, enc(`${value.year} ${value.month} ${value.day}`)];
    if (value instanceof PyTime) {
      return [T.time, enc(`${value.hour} ${value.minute} ${value.second} ${value.microsecond}`)];
    }
    if (value instanceof PyTimedelta) {
      return [T.timedelta, enc(`${value.days} ${value.seconds} ${value.microseconds}`)];
    }
    if (value instanceof PyDecimal) return [T.decimal, value.digits, value.exponent];
    if (value instanceof Unpersistable) return [T.unpersistable, enc(value.reason)];
    return this.unpersistable(value);
  }

  /** Twisted sends what it cannot serialize as a placeholder rather than failing the call. */
  private unpersistable(value: unknown): BananaValue {
    const what =
      typeof value === 'object' && value !== null
        ? `instance of class ${value.constructor?.name}`
        : typeof value;
    return [T.unpersistable, Buffer.from(`${what} deemed insecure`, 'utf8')];
  }

  /** Emits a tracked container: registered before its children so cycles are found. */
  container(value: object, tag: Uint8Array | Token, fill: (out: BananaValue[]) => void): BananaValue {
    const sexp: BananaValue[] = [tag];
    const entry: Seen = { sexp, refId: 0, done: false };
    this.seen ??= new Map();
    this.seen.set(value, entry);
    fill(sexp);
    entry.done = true;
    // A cycle found while filling: wrap now, before the parent sees this form.
    return entry.refId ? [T.reference, entry.refId, sexp] : sexp;
  }

  private dereference(prior: Seen): BananaValue {
    if (!prior.refId) {
      prior.refId = this.nextRefId++;
      if (prior.done) {
        // Already placed in the output: rewrite that occurrence in place.
        const inner = prior.sexp.slice();
        prior.sexp.length = 0;
        prior.sexp.push(T.reference, prior.refId, inner);
      }
    }
    return [T.dereference, prior.refId];
  }
}

/** Jellies one value (one independent reference scope). */
export function jelly(value: unknown, flavors?: FlavorCodec, perspective?: unknown): BananaValue {
  return new Jellier(flavors, perspective).jelly(value);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The tag of a typed list as a string. Tags are short: a JS loop beats a native call. */
export function tagOf(v: BananaValue | undefined): string | undefined {
  if (v instanceof Uint8Array) {
    if (v.length > 32) return Buffer.from(v.buffer, v.byteOffset, v.length).toString('latin1');
    let s = '';
    for (let i = 0; i < v.length; i++) s += String.fromCharCode(v[i]!);
    return s;
  }
  if (v instanceof Token) return v.word;
  return undefined;
}

/** Strict UTF-8 decoding, with a fast path for the common short all-ASCII string. */
export function decodeText(b: Uint8Array): string {
  if (b.length <= 64) {
    let s = '';
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c > 0x7f) return utf8.decode(b);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(b);
}

function bytesAt(form: BananaValue[], i: number, what: string): Uint8Array {
  const v = form[i];
  if (v instanceof Token) return v.bytes;
  if (!(v instanceof Uint8Array)) throw new InsecureJelly(`${what}: expected a byte string`);
  return v;
}

function fields(form: BananaValue[], what: string, count: number): number[] {
  const text = Buffer.from(bytesAt(form, 1, what)).toString('latin1');
  const parts = text.split(' ');
  if (parts.length !== count || parts.some((p) => !/^-?\d+$/.test(p))) {
    throw new InsecureJelly(`${what}: malformed value ${JSON.stringify(text)}`);
  }
  return parts.map(Number);
}

/** One unjelly call: rebuilds one value from an s-expression. */
export class Unjellier {
  private readonly references = new Map<number, unknown>();
  /** Set while unjellying the form inside `['reference', id, form]`. */
  private pendingRef = 0;
  constructor(readonly flavors?: FlavorCodec) {}

  unjelly(form: BananaValue): unknown {
    if (!Array.isArray(form)) {
      // Bytes for the application: its own copy, never a view into a network buffer
      // (nor the shared token of bytes that happen to spell a vocabulary word).
      if (form instanceof Token) return Buffer.from(form.bytes);
      if (form instanceof Uint8Array) return Buffer.from(form);
      return form;
    }
    const tag = tagOf(form[0]);
    if (tag === undefined) throw new InsecureJelly('typed list without a byte-string tag');
    const ref = this.pendingRef;
    this.pendingRef = 0;
    switch (tag) {
      case 'None':
        return null;
      case 'unicode': {
        try {
          const text = form[1];
          // Jelly's own output, unjellied without a trip through Banana (a deep copy).
          if (text instanceof Utf8) return text.text;
          return decodeText(bytesAt(form, 1, 'unicode'));
        } catch (e) {
          if (e instanceof InsecureJelly) throw e;
          throw new InsecureJelly('unicode: invalid UTF-8');
        }
      }
      case 'boolean': {
        const v = tagOf(form[1]);
        if (v === 'true') return true;
        if (v === 'false') return false;
        throw new InsecureJelly(`boolean: unexpected value ${v}`);
      }
      case 'list':
        return this.fillArray(form, [], ref);
      case 'tuple':
        return this.fillArray(form, new PyTuple(), ref);
      case 'set':
      case 'frozenset': {
        const s = tag === 'set' ? new Set<unknown>() : new PyFrozenSet<unknown>();
        this.register(ref, s);
        for (let i = 1; i < form.length; i++) s.add(this.unjelly(form[i]!));
        return s;
      }
      case 'dictionary':
        return this.dictionary(form, ref);
      case 'reference': {
        const id = form[1];
        if (typeof id !== 'number' || form.length !== 3) throw new InsecureJelly('malformed reference');
        this.pendingRef = id;
        const value = this.unjelly(form[2]!);
        this.pendingRef = 0;
        this.references.set(id, value);
        return value;
      }
      case 'dereference': {
        const id = form[1];
        if (typeof id !== 'number' || !this.references.has(id)) {
          throw new InsecureJelly(`dereference to unknown id ${String(id)}`);
        }
        return this.references.get(id);
      }
      case 'datetime': {
        const [y, mo, d, h, mi, s, us] = fields(form, 'datetime', 7) as [number, ...number[]];
        return new PyDateTime(y, mo!, d!, h, mi, s, us);
      }
      case 'date': {
        const [y, mo, d] = fields(form, 'date', 3);
        return new PyDate(y!, mo!, d!);
      }
      case 'time': {
        const [h, mi, s, us] = fields(form, 'time', 4);
        return new PyTime(h!, mi!, s!, us);
      }
      case 'timedelta': {
        const [d, s, us] = fields(form, 'timedelta', 3);
        return new PyTimedelta(d!, s!, us);
      }
      case 'decimal': {
        const digits = form[1];
        const exponent = form[2];
        if ((typeof digits !== 'number' && typeof digits !== 'bigint') || typeof exponent !== 'number') {
          throw new InsecureJelly('malformed decimal');
        }
        return new PyDecimal(BigInt(digits), exponent);
      }
      case 'unpersistable':
        return new Unpersistable(Buffer.from(bytesAt(form, 1, 'unpersistable')).toString('utf8'));
      default:
        return this.other(tag, form, ref);
    }
  }

  private other(tag: string, form: BananaValue[], ref: number): unknown {
    const flavored = this.flavors?.unjellyFlavor(tag, form, this);
    if (flavored) {
      this.register(ref, flavored.value);
      return flavored.value;
    }
    const cls = tag.includes('.') ? registry.get(tag) : undefined;
    if (!cls || form.length !== 2) throw new InsecureJelly(`class not allowed: ${JSON.stringify(tag)}`);
    const instance = new cls();
    this.register(ref, instance);
    instance.setCopyableState(this.unjelly(form[1]!));
    return instance;
  }

  private register(ref: number, value: unknown): void {
    if (ref) this.references.set(ref, value);
  }

  private fillArray(form: BananaValue[], out: unknown[], ref: number): unknown[] {
    this.register(ref, out);
    for (let i = 1; i < form.length; i++) out.push(this.unjelly(form[i]!));
    return out;
  }

  /**
   * Dicts whose keys are all text become plain objects (the common case: kwargs,
   * Buildbot's argument dicts); any other key type makes a Map. The choice is made
   * from the wire forms before anything is built, so a dict can contain itself.
   */
  private dictionary(form: BananaValue[], ref: number): unknown {
    let textKeys = true;
    for (let i = 1; i < form.length; i++) {
      const pair = form[i];
      if (!Array.isArray(pair) || pair.length !== 2) throw new InsecureJelly('dictionary: malformed pair');
      const key = pair[0];
      if (!Array.isArray(key) || tagOf(key[0]) !== 'unicode') textKeys = false;
    }
    if (textKeys) {
      const obj: Record<string, unknown> = {};
      this.register(ref, obj);
      for (let i = 1; i < form.length; i++) {
        const pair = form[i] as BananaValue[];
        const key = this.unjelly(pair[0]!) as string;
        const value = this.unjelly(pair[1]!);
        // A key named "__proto__" must stay data, never become the prototype.
        if (key === '__proto__') {
          Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
        } else {
          obj[key] = value;
        }
      }
      return obj;
    }
    const map = new Map<unknown, unknown>();
    this.register(ref, map);
    for (let i = 1; i < form.length; i++) {
      const pair = form[i] as BananaValue[];
      map.set(this.unjelly(pair[0]!), this.unjelly(pair[1]!));
    }
    return map;
  }
}

/** Unjellies one value (one independent reference scope). */
export function unjelly(form: BananaValue, flavors?: FlavorCodec): unknown {
  return new Unjellier(flavors).unjelly(form);
}
