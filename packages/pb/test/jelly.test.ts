import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BananaDecoder, type BananaValue, encode } from '../src/banana.js';
import {
  Copyable,
  type FlavorCodec,
  InsecureJelly,
  Jellier,
  jelly,
  RemoteCopy,
  registerRemoteCopy,
  tagOf,
  Unjellier,
  unjelly,
} from '../src/jelly.js';
import {
  PyDate,
  PyDateTime,
  PyDecimal,
  PyFloat,
  PyFrozenSet,
  PyTime,
  PyTimedelta,
  PyTuple,
  tuple,
  Unpersistable,
} from '../src/values.js';
import { loadTrace, traceNames } from './fixtures.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const bytesOf = (v: unknown) => encode(jelly(v));
/** Jelly, Banana-encode, decode and unjelly: the whole trip a value makes. */
function roundTrip(v: unknown): unknown {
  const decoded: BananaValue[] = [];
  new BananaDecoder((x) => decoded.push(x)).push(bytesOf(v));
  assert.equal(decoded.length, 1);
  return unjelly(decoded[0]!);
}

describe('Jelly forms are byte-identical to Twisted', () => {
  const cases: Array<[string, unknown, string]> = [
    ['None', null, '01 80 01 87'],
    ['True', true, '02 80 07 82 626f6f6c65616e 04 82 74727565'],
    ["'hé'", 'hé', '02 80 07 82 756e69636f6465 03 82 68 c3 a9'],
    ["(1, 'a')", tuple<unknown>(1, 'a'), '03 80 0b 87 01 81 02 80 07 82 756e69636f6465 01 82 61'],
    [
      "{'k': b'v'}",
      { k: Buffer.from('v') },
      '02 80 05 87 02 80 02 80 07 82 756e69636f6465 01 82 6b 01 82 76',
    ],
    ['[1.5]', [1.5], '02 80 08 87 84 3f f8 00 00 00 00 00 00'],
  ];
  for (const [name, value, bytes] of cases) {
    it(name, () => assert.deepEqual(bytesOf(value), hex(bytes)));
  }
});

describe('Jelly round trips keep Python types apart', () => {
  it('keeps int and float apart, even for integral floats', () => {
    assert.equal(roundTrip(1), 1);
    const f = roundTrip(new PyFloat(1));
    assert.ok(f instanceof PyFloat && f.value === 1);
    assert.equal(roundTrip(1.25), 1.25);
    assert.ok(Object.is((roundTrip(-0) as PyFloat).value, -0));
  });
  it('keeps big integers exact', () => {
    for (const v of [2n ** 64n, -(2n ** 100n), 2n ** 447n]) assert.equal(roundTrip(v), v);
    assert.equal(roundTrip(2 ** 40), 2 ** 40);
  });
  it('keeps bytes and text apart', () => {
    const b = roundTrip(Buffer.from('hello'));
    assert.ok(b instanceof Uint8Array);
    assert.equal(roundTrip('hello'), 'hello');
    assert.deepEqual(roundTrip(Buffer.from('None')), Buffer.from('None'));
  });
  it('keeps lists, tuples, sets and frozensets apart', () => {
    const v = roundTrip([[1], tuple(2), new Set([3]), new PyFrozenSet([4]), tuple()]) as unknown[];
    assert.ok(!(v[0] instanceof PyTuple) && Array.isArray(v[0]));
    assert.ok(v[1] instanceof PyTuple);
    assert.ok(v[2] instanceof Set && !(v[2] instanceof PyFrozenSet));
    assert.ok(v[3] instanceof PyFrozenSet);
    assert.ok(v[4] instanceof PyTuple && (v[4] as unknown[]).length === 0);
  });
  it('maps text-keyed dicts to objects and other dicts to Maps', () => {
    assert.deepEqual(roundTrip({ a: 1, b: [true, null] }), { a: 1, b: [true, null] });
    const m = roundTrip(
      new Map<unknown, unknown>([
        [1, 'one'],
        [tuple(1, 2), 'pair'],
      ]),
    ) as Map<unknown, unknown>;
    assert.ok(m instanceof Map);
    assert.equal(m.get(1), 'one');
    assert.deepEqual([...m.keys()][1], tuple(1, 2));
  });
  it('never lets a key named __proto__ become a prototype', () => {
    const form: BananaValue = [
      Buffer.from('dictionary'),
      [[Buffer.from('unicode'), Buffer.from('__proto__')], [Buffer.from('dictionary')]],
    ];
    const obj = unjelly(form) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(obj), Object.prototype);
    assert.ok(Object.hasOwn(obj, '__proto__'));
  });
  it('carries datetime, date, time, timedelta, decimal and unpersistable', () => {
    const dt = roundTrip(new PyDateTime(2024, 1, 2, 3, 4, 5, 6));
    assert.deepEqual(dt, new PyDateTime(2024, 1, 2, 3, 4, 5, 6));
    assert.deepEqual(
      bytesOf(new PyDateTime(2024, 1, 2, 3, 4, 5, 6))
        .subarray(-16)
        .toString(),
      '2024 1 2 3 4 5 6',
    );
    assert.deepEqual(roundTrip(new PyDate(2024, 2, 29)), new PyDate(2024, 2, 29));
    assert.deepEqual(roundTrip(new PyTime(23, 59, 58, 1)), new PyTime(23, 59, 58, 1));
    assert.deepEqual(roundTrip(new PyTimedelta(-1, 86399, 5)), new PyTimedelta(-1, 86399, 5));
    const d = roundTrip(new PyDecimal(-12345n, -3)) as PyDecimal;
    assert.equal(d.toString(), '-12.345');
    assert.deepEqual(roundTrip(new Unpersistable('why')), new Unpersistable('why'));
  });
  it('sends unknown class instances as unpersistable, as Twisted does', () => {
    class Opaque {}
    const v = roundTrip(new Opaque());
    assert.ok(v instanceof Unpersistable);
    assert.match(v.reason, /Opaque/);
  });
});

describe('Jelly shared and cyclic references', () => {
  const tag = (s: string) => Buffer.from(s);
  it('marks a shared dict exactly as Twisted does', () => {
    const d = { x: 1 };
    const expected: BananaValue = [
      tag('list'),
      [tag('reference'), 1, [tag('dictionary'), [[tag('unicode'), tag('x')], 1]]],
      [tag('dereference'), 1],
    ];
    assert.deepEqual(encode(jelly([d, d])), encode(expected));
    const back = unjelly(jelly([d, d])) as unknown[];
    assert.equal(back[0], back[1]);
  });
  it('marks a self-containing list exactly as Twisted does', () => {
    const l: unknown[] = [1];
    l.push(l);
    const expected: BananaValue = [tag('reference'), 1, [tag('list'), 1, [tag('dereference'), 1]]];
    assert.deepEqual(encode(jelly(l)), encode(expected));
    const back = unjelly(jelly(l)) as unknown[];
    assert.equal(back[1], back);
  });
  it('numbers references in order of discovery', () => {
    const a = [1];
    const b = [2];
    const expected: BananaValue = [
      tag('list'),
      [tag('reference'), 1, [tag('list'), 1]],
      [tag('reference'), 2, [tag('list'), 2]],
      [tag('dereference'), 1],
      [tag('dereference'), 2],
    ];
    assert.deepEqual(encode(jelly([a, b, a, b])), encode(expected));
  });
  it('rebuilds cycles through dicts, tuples and sets', () => {
    const d: Record<string, unknown> = { name: 'root' };
    const t = tuple<unknown>(d);
    d.self = d;
    d.tuple = t;
    const back = unjelly(jelly(t)) as unknown[];
    const bd = back[0] as Record<string, unknown>;
    assert.equal(bd.self, bd);
    assert.equal(bd.tuple, back);
  });
  it('does not share strings (each str is a fresh unicode form)', () => {
    const s = 'str';
    assert.deepEqual(
      encode(jelly([s, s])),
      encode([tag('list'), [tag('unicode'), tag('str')], [tag('unicode'), tag('str')]]),
    );
  });
  it('refuses a dereference to an unknown id', () => {
    assert.throws(() => unjelly([tag('list'), [tag('dereference'), 7]]), InsecureJelly);
  });
});

describe('Jelly whitelist', () => {
  const tag = (s: string) => Buffer.from(s);
  it('refuses unknown and unregistered tags', () => {
    for (const t of ['os.system', 'class', 'module', 'function', 'instance', 'persistent', 'bool', 'nope']) {
      assert.throws(() => unjelly([tag(t), tag('x')]), InsecureJelly, t);
    }
  });
  it('refuses malformed forms of known tags', () => {
    assert.throws(() => unjelly([tag('unicode'), Buffer.from([0xff, 0xfe])]), InsecureJelly);
    assert.throws(() => unjelly([tag('boolean'), tag('maybe')]), InsecureJelly);
    assert.throws(() => unjelly([tag('datetime'), tag('2024 x')]), InsecureJelly);
    assert.throws(() => unjelly([tag('dictionary'), [1]]), InsecureJelly);
    assert.throws(() => unjelly([5, 6]), InsecureJelly);
  });
  it('rebuilds registered copyables and nothing else', () => {
    class Thing extends Copyable {
      static override copyTag = 'test.Thing';
      constructor(
        public name = '',
        public values: number[] = [],
      ) {
        super();
      }
    }
    class RemoteThing extends RemoteCopy {
      name?: string;
      values?: number[];
    }
    assert.throws(() => unjelly(jelly(new Thing('w', [1]))), InsecureJelly);
    registerRemoteCopy('test.Thing', RemoteThing);
    const back = unjelly(jelly(new Thing('widget', [1, 2, 3]))) as RemoteThing;
    assert.ok(back instanceof RemoteThing);
    assert.equal(back.name, 'widget');
    assert.deepEqual(back.values, [1, 2, 3]);
  });
});

/**
 * Every payload in the golden traces (call arguments, keyword arguments, answers,
 * errors) unjellies and re-jellies to the same bytes. Connection-bound forms and
 * copy tags are carried through by a recording codec.
 */
describe('Jelly round trip of every payload in the golden traces', () => {
  class Opaque {
    constructor(
      readonly tag: string,
      readonly fields: unknown[],
    ) {}
  }
  const codec: FlavorCodec = {
    unjellyFlavor(tag, form, unjellier) {
      if (['remote', 'local', 'cached', 'lcache'].includes(tag))
        return { value: new Opaque(tag, form.slice(1)) };
      if (!tag.includes('.')) return undefined;
      const opaque = new Opaque(tag, []);
      for (const f of form.slice(1)) opaque.fields.push(typeof f === 'number' ? f : unjellier.unjelly(f));
      return { value: opaque };
    },
    jellyFlavor(value, jellier: Jellier) {
      if (!(value instanceof Opaque)) return undefined;
      if (!value.tag.includes('.')) return [Buffer.from(value.tag), ...(value.fields as BananaValue[])];
      return jellier.container(value, Buffer.from(value.tag), (out) => {
        for (const f of value.fields) out.push(typeof f === 'number' ? f : jellier.jelly(f));
      });
    },
  };
  for (const name of traceNames()) {
    it(name, () => {
      const trace = loadTrace(name);
      let checked = 0;
      for (const e of trace.elements) {
        const bytes = trace.bytes[e.dir].subarray(e.start, e.end);
        let value: unknown;
        new BananaDecoder((v: BananaValue) => {
          value = v;
        }).push(bytes);
        const cmd = Array.isArray(value) ? tagOf(value[0]) : undefined;
        if (!Array.isArray(value) || cmd === undefined) continue;
        const payloads =
          cmd === 'message' || cmd === 'cachemessage'
            ? [value[5], value[6]]
            : cmd === 'answer' || cmd === 'error'
              ? [value[2]]
              : [];
        for (const p of payloads as BananaValue[]) {
          const again = new Jellier(codec).jelly(new Unjellier(codec).unjelly(p));
          assert.deepEqual(encode(again), encode(p), `${name} element ${e.n} (${cmd})`);
          checked++;
        }
      }
      assert.ok(checked > 0);
    });
  }
});
