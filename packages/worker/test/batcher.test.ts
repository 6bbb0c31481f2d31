import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTuple, type Update } from '../src/protocol/values.js';
import { UpdateBatcher } from '../src/updates/batcher.js';
import { LineSplitter } from '../src/updates/line-splitter.js';

describe('LineSplitter', () => {
  it('releases whole lines only and terminates the rest on flush', () => {
    const s = new LineSplitter();
    assert.equal(s.push('hel'), '');
    assert.equal(s.push('lo\nwor'), 'hello\n');
    assert.equal(s.push('ld'), '');
    assert.equal(s.flush(), 'world\n');
    assert.equal(s.flush(), '');
  });

  it('treats CR, CRLF and cursor escapes as line ends', () => {
    const s = new LineSplitter();
    assert.equal(s.push('a\r\nb\rc\x1b[2Jd\x08\x08e\n'), 'a\nb\nc\nd\ne\n');
    // a CR at the end of a chunk waits: it may be the first half of CRLF
    assert.equal(s.push('x\r'), '');
    assert.equal(s.push('\ny\n'), 'x\ny\n');
  });

  it('breaks over-long lines, also when no newline ever comes', () => {
    const s = new LineSplitter(10);
    assert.equal(s.push(`${'a'.repeat(25)}\n`), `${'a'.repeat(9)}\n${'a'.repeat(9)}\n${'a'.repeat(7)}\n`);
    assert.equal(s.push('b'.repeat(12)), `${'b'.repeat(9)}\n`);
    assert.equal(s.flush(), 'bbb\n');
  });
});

describe('UpdateBatcher', () => {
  it('joins adjacent output of one stream and keeps the order of everything', () => {
    const batches: Update[][] = [];
    const b = new UpdateBatcher((batch) => batches.push(batch), { maxDelayMs: 60_000 });
    b.add([['header', 'h1\n']]);
    b.add([['header', 'h2\n']]);
    b.add([['stdout', 'o1\n']]);
    b.add([['stderr', 'e1\n']]);
    b.add([['stdout', 'o2\n']]);
    b.add([['rc', 0]]);
    b.add([['header', 'elapsedTime=0.1\n']]);
    assert.equal(batches.length, 0);
    b.flush();
    assert.deepEqual(batches, [
      [
        ['header', 'h1\nh2\n'],
        ['stdout', 'o1\n'],
        ['stderr', 'e1\n'],
        ['stdout', 'o2\n'],
        ['rc', 0],
        ['header', 'elapsedTime=0.1\n'],
      ],
    ]);
  });

  it('holds a partial line until completion, then sends it with a newline (mkdir error header)', () => {
    const batches: Update[][] = [];
    const b = new UpdateBatcher((batch) => batches.push(batch), { maxDelayMs: 60_000 });
    b.add([
      ['header', 'mkdir: Permission denied: /x'],
      ['rc', 13],
    ]);
    b.add([['elapsed', 0.001]]);
    b.flush();
    assert.deepEqual(batches, [
      [
        ['rc', 13],
        ['elapsed', 0.001],
        ['header', 'mkdir: Permission denied: /x\n'],
      ],
    ]);
  });

  it('sends log updates as (name, text) tuples, joined per log', () => {
    const batches: Update[][] = [];
    const b = new UpdateBatcher((batch) => batches.push(batch));
    b.add([['log', ['mylog', 'a\n']]]);
    b.add([['log', ['mylog', 'b\n']]]);
    b.add([['log', ['other', 'c\n']]]);
    b.flush();
    const [batch] = batches;
    assert.equal(batch!.length, 2);
    const [key, value] = batch![0]!;
    assert.equal(key, 'log');
    assert.ok(isTuple(value));
    assert.deepEqual([...(value as unknown[])], ['mylog', 'a\nb\n']);
    assert.deepEqual([...(batch![1]![1] as unknown[])], ['other', 'c\n']);
  });

  it('bounds a batch by size, cutting big output at line ends', () => {
    const batches: Update[][] = [];
    const b = new UpdateBatcher((batch) => batches.push(batch), { maxBatchSize: 100, maxDelayMs: 60_000 });
    const line = `${'x'.repeat(29)}\n`; // 30 characters
    b.add([['stdout', line.repeat(10)]]);
    b.flush();
    const sizes = batches.map((batch) =>
      batch.map(([, v]) => (v as string).length).reduce((a, c) => a + c, 0),
    );
    assert.ok(
      sizes.every((s) => s <= 100),
      `batch sizes ${sizes}`,
    );
    assert.equal(
      batches
        .flat()
        .map(([, v]) => v)
        .join(''),
      line.repeat(10),
    );
    assert.ok(batches.flat().every(([, v]) => (v as string).endsWith('\n')));
  });

  it('sends a batch once its oldest update has waited long enough', async () => {
    const batches: Update[][] = [];
    const b = new UpdateBatcher((batch) => batches.push(batch), { maxDelayMs: 30 });
    b.add([['stdout', 'early\n']]);
    assert.equal(batches.length, 0);
    const deadline = Date.now() + 5000;
    while (batches.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(batches, [[['stdout', 'early\n']]]);
    b.add([['rc', 0]]);
    b.flush();
    assert.deepEqual(batches[1], [['rc', 0]]);
  });

  it('by default sends the first output at once and later output within a second', async () => {
    const sent: Array<{ at: number; batch: Update[] }> = [];
    const b = new UpdateBatcher((batch) => sent.push({ at: Date.now(), batch }));
    const waitFor = async (n: number) => {
      const deadline = Date.now() + 10_000;
      while (sent.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    };
    const start = Date.now();
    b.add([['stdout', 'started\n']]);
    await waitFor(1);
    // Generous bounds for a loaded machine; the old 5 s batching misses both by far.
    assert.ok(sent[0]!.at - start < 1000, `first output held back ${sent[0]!.at - start} ms`);
    const second = Date.now();
    b.add([['stdout', 'more\n']]);
    b.add([['stdout', 'and more\n']]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sent.length, 1, 'later output is batched, not sent line by line');
    await waitFor(2);
    assert.ok(sent[1]!.at - second < 3000, `later output held back ${sent[1]!.at - second} ms`);
    assert.deepEqual(sent[1]!.batch, [['stdout', 'more\nand more\n']]);
  });

  it('drops everything on discard', async () => {
    const batches: Update[][] = [];
    const b = new UpdateBatcher((batch) => batches.push(batch), { maxDelayMs: 10 });
    b.add([['stdout', 'lost\n']]);
    b.discard();
    await new Promise((r) => setTimeout(r, 30));
    b.flush();
    assert.deepEqual(batches, []);
  });
});
