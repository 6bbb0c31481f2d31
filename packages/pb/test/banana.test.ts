import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BananaDecoder, BananaError, type BananaValue, encode, vocabToken } from '../src/banana.js';
import { PyFloat } from '../src/values.js';
import { type Dir, fromTypedJson, loadTrace, traceNames } from './fixtures.js';

function decodeAll(chunks: Uint8Array[], vocab = true): BananaValue[] {
  const out: BananaValue[] = [];
  const d = new BananaDecoder((v) => out.push(v), { vocab });
  for (const c of chunks) d.push(c);
  assert.equal(d.pendingBytes, 0, 'no bytes left over');
  return out;
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('Banana encoding follows Twisted byte for byte', () => {
  const cases: Array<[BananaValue, string]> = [
    [0, '00 81'],
    [-1, '01 83'],
    [128, '00 01 81'],
    [-128, '00 01 83'],
    [300, '2c 02 81'],
    [2 ** 31 - 1, '7f 7f 7f 7f 07 81'],
    [2147483648, '00 00 00 00 08 85'],
    [-2147483648, '00 00 00 00 08 83'],
    [-2147483649, '01 00 00 00 08 86'],
    [2n ** 64n, '00 00 00 00 00 00 00 00 00 02 85'],
    [1.5, '84 3f f8 00 00 00 00 00 00'],
    [new PyFloat(1), '84 3f f0 00 00 00 00 00 00'],
    [new PyFloat(-0), '84 80 00 00 00 00 00 00 00'],
    [Number.POSITIVE_INFINITY, '84 7f f0 00 00 00 00 00 00'],
    [Buffer.alloc(0), '00 82'],
    [Buffer.from('hi'), '02 82 68 69'],
    [Buffer.from('None'), '01 87'],
    [Buffer.from('message'), '1a 87'],
    [[], '00 80'],
    [[1, [2]], '02 80 01 81 01 80 02 81'],
  ];
  for (const [value, bytes] of cases) {
    it(`${String(value instanceof Uint8Array ? `b'${value}'` : value)} -> ${bytes}`, () => {
      assert.deepEqual(encode(value), hex(bytes));
      // A VOCAB element decodes to the shared token for its word.
      const vocab = hex(bytes).at(-1) === 0x87 ? vocabToken(hex(bytes)[0]!) : undefined;
      assert.deepEqual(decodeAll([hex(bytes)]), [vocab ?? value]);
    });
  }
  it('sends vocabulary words as STRING when the dialect has no vocabulary', () => {
    assert.deepEqual(encode(Buffer.from('pb'), false), hex('02 82 70 62'));
    assert.deepEqual(encode(Buffer.from('None'), false), hex('04 82 4e 6f 6e 65'));
  });
  it('refuses integers beyond 2^448 - 1', () => {
    assert.throws(() => encode(2n ** 448n), BananaError);
    assert.equal(encode(2n ** 448n - 1n).length, 65);
  });
});

describe('golden traces', () => {
  for (const name of traceNames()) {
    describe(name, () => {
      const trace = loadTrace(name);
      for (const dir of ['c2s', 's2c'] as Dir[]) {
        const expected = trace.elements.filter((e) => e.dir === dir).sort((a, b) => a.start - b.start);
        const bytes = trace.bytes[dir];
        // Before dialect selection there is no vocabulary; the first element each way is negotiation.
        it(`${dir}: decodes to the listed elements and re-encodes byte for byte`, () => {
          const got = decodeAll([bytes]);
          assert.equal(got.length, expected.length);
          got.forEach((value, i) => {
            const e = expected[i]!;
            assert.deepEqual(value, fromTypedJson(e.value), `element ${e.n}`);
            const useVocab = !(i === 0);
            assert.deepEqual(encode(value, useVocab), bytes.subarray(e.start, e.end), `element ${e.n} bytes`);
          });
        });
        it(`${dir}: decodes the same in the captured TCP chunks and one byte at a time`, () => {
          const whole = decodeAll([bytes]);
          const captured = trace.chunks
            .filter((c) => c[1] === dir)
            .map((c) => bytes.subarray(c[2], c[2] + c[3]));
          assert.equal(
            captured.reduce((n, c) => n + c.length, 0),
            bytes.length,
          );
          assert.deepEqual(decodeAll(captured), whole);
          const single = Array.from(bytes, (b) => Buffer.of(b));
          assert.deepEqual(decodeAll(single), whole);
        });
      }
    });
  }
});

describe('Banana decoder limits and malformed input', () => {
  const fails = (bytes: Buffer, pattern: RegExp, vocab = true) => {
    const d = new BananaDecoder(() => {}, { vocab });
    assert.throws(
      () => d.push(bytes),
      (e: unknown) => e instanceof BananaError && pattern.test(e.message),
    );
    // A failed decoder stays failed: the stream cannot be resynchronised.
    assert.throws(() => d.push(hex('00 81')), BananaError);
  };
  it('rejects a header longer than 64 bytes, even without a type byte yet', () => {
    fails(Buffer.alloc(65, 1), /header longer/);
    const ok: BananaValue[] = [];
    new BananaDecoder((v) => ok.push(v)).push(Buffer.concat([Buffer.alloc(64, 0), Buffer.of(0x81)]));
    assert.deepEqual(ok, [0]);
  });
  it('rejects an oversized STRING before its body arrives', () => {
    fails(hex('7f 7f 7f 7f 07 82'), /string of 2147483647 bytes exceeds the limit/);
  });
  it('encodes a plain -0 as the float -0.0', () => {
    assert.deepEqual(encode(-0), hex('84 80 00 00 00 00 00 00 00'));
  });
  it('accepts exactly 655360 and rejects 655361 in a STRING header', () => {
    fails(Buffer.from([0x01, 0x00, 0x28, 0x82]), /string of 655361/);
    const d = new BananaDecoder(() => {});
    d.push(Buffer.from([0x00, 0x00, 0x28, 0x82])); // waits for the body
    assert.equal(d.pendingBytes, 4);
  });
  it('rejects an oversized LIST', () => {
    fails(Buffer.from([0x01, 0x00, 0x28, 0x80]), /list of 655361/);
  });
  it('rejects an unknown type byte', () => fails(hex('00 88'), /invalid type byte 0x88/));
  it('rejects an unknown VOCAB index', () => fails(hex('20 87'), /unknown VOCAB index 32/));
  it('rejects VOCAB under the none dialect', () => fails(hex('01 87'), /before the pb dialect/, false));
  it('rejects deep nesting', () =>
    fails(Buffer.concat(Array.from({ length: 300 }, () => hex('01 80'))), /nested/));
  it('bounds what an unfinished element may buffer', () => {
    const d = new BananaDecoder(() => {}, { limits: { maxMessageBytes: 1000 } });
    d.push(hex('0a 80')); // a list of ten 200-byte strings = 2000 bytes
    const s = Buffer.concat([hex('48 01 82'), Buffer.alloc(200)]);
    for (let i = 0; i < 4; i++) d.push(s);
    assert.throws(() => d.push(s), /message limit/);
  });
  it('accepts redundant zero groups and empty headers as Twisted does', () => {
    assert.deepEqual(decodeAll([hex('05 00 00 81 81')]), [5, 0]);
  });
});
