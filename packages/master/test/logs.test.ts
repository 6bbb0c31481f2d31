import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LogClosedError } from '../src/data/errors.js';
import { ChunkEncoder, decodeChunk, RAW, ZLIB } from '../src/data/log-chunks.js';
import { MAX_CHUNK_LINES } from '../src/data/logs.js';
import { LogWriter } from '../src/logs/writer.js';
import { SUCCESS } from '../src/results.js';
import { openData, seedRequests, type TestData, tempDir } from './helpers.js';

async function newStep(t: TestData, name: string): Promise<number> {
  const { masterid } = await t.data.masters.register('logs-master');
  const { builderid, brids } = await seedRequests(t.data, `logs-${name}`, 1);
  await t.data.buildrequests.claim(brids, masterid);
  const { buildid } = await t.data.builds.add({
    builderid,
    buildrequestid: brids[0]!,
    workerid: null,
    masterid,
  });
  const { stepid } = await t.data.steps.add(buildid, name);
  await t.data.steps.start(stepid);
  return stepid;
}

describe('logs', () => {
  const dir = tempDir();
  let clock = 1_700_000_000;
  let t: TestData;
  before(async () => {
    t = await openData(join(dir.path, 'logs.sqlite'), () => clock);
  });
  after(async () => {
    await t.close();
    dir.cleanup();
  });

  it('stores large output in bounded, compressed chunks and reads line ranges while it grows', async () => {
    const stepid = await newStep(t, 'big');
    const logid = await t.data.logs.add(stepid, 'stdio', 's');
    const writer = new LogWriter(t.data.logs, logid, { flushBytes: 32 * 1024 });
    // A live view follows one log through its routing key.
    const appended: [number, number][] = [];
    const follow = t.bus.subscribe(`log.append.*.${logid}`, (m) => {
      if (m.kind === 'log.append') appended.push([m.payload.firstLine, m.payload.lastLine]);
    });
    const total = 60_000;
    // Output arrives in arbitrary pieces that split lines, interleaving two streams.
    let pending = '';
    for (let i = 0; i < total; i++) {
      pending += `line ${i} ${'x'.repeat(i % 50)}\n`;
      if (pending.length > 7000) {
        await writer.write('o', pending.slice(0, 3333));
        await writer.write('o', pending.slice(3333));
        pending = '';
      }
      if (i === 30_000) {
        await writer.write('o', pending);
        pending = '';
        await writer.write('e', 'warning: half way\n');
        await writer.flush();
        // Readable in the middle of the run.
        const log = await t.data.logs.get(logid);
        assert.equal(log?.complete, false);
        assert.equal(log?.numLines, 30_002);
        assert.deepEqual(await t.data.logs.stdioLines(logid, 30_000, 30_001), [
          { stream: 'o', text: `line 30000 ${'x'.repeat(0)}` },
          { stream: 'e', text: 'warning: half way' },
        ]);
      }
    }
    await writer.write('o', `${pending}no newline at the end`);
    await writer.finish();
    assert.ok(writer.peakBufferedBytes < 32 * 1024 + 8000, `peak buffer ${writer.peakBufferedBytes}`);

    const log = await t.data.logs.get(logid);
    assert.equal(log?.complete, true);
    assert.equal(log?.numLines, total + 2);
    const chunks = await t.data.logs.chunkCount(logid);
    assert.ok(chunks >= Math.ceil((total + 2) / MAX_CHUNK_LINES), `${chunks} chunks`);

    // Ranges that straddle chunk boundaries come back exactly.
    const lines = await t.data.logs.lines(logid, 998, 1003);
    assert.deepEqual(
      lines,
      [998, 999, 1000, 1001, 1002, 1003].map((i) => `oline ${i} ${'x'.repeat(i % 50)}`),
    );
    assert.deepEqual(await t.data.logs.lines(logid, total + 1, total + 100), ['ono newline at the end']);
    assert.deepEqual(await t.data.logs.lines(logid, total + 5, total + 9), []);

    // Raw download strips stream letters and yields the log in order.
    let raw = '';
    let pieces = 0;
    for await (const piece of t.data.logs.raw(logid)) {
      raw += piece;
      pieces++;
    }
    assert.equal(pieces, chunks);
    const rawLines = raw.split('\n');
    assert.equal(rawLines[0], 'line 0 ');
    assert.equal(rawLines[30_001], 'warning: half way');
    assert.equal(rawLines[total + 1], 'no newline at the end');

    // Compression actually happened: stored bytes are far below the text size.
    const stored = await t.db.kysely
      .selectFrom('logchunks')
      .select((eb) => eb.fn.sum<number>(eb.fn('length', ['content'])).as('bytes'))
      .where('logid', '=', logid)
      .executeTakeFirstOrThrow();
    assert.ok(Number(stored.bytes) < raw.length / 3, `stored ${stored.bytes} of ${raw.length}`);

    await assert.rejects(t.data.logs.append(logid, 'olate\n'), LogClosedError);

    await t.bus.idle();
    follow.unsubscribe();
    assert.equal(appended[0]?.[0], 0);
    assert.equal(appended.at(-1)?.[1], total + 1);
    for (let i = 1; i < appended.length; i++)
      assert.equal(appended[i]![0], appended[i - 1]![1] + 1, 'contiguous');
  });

  it('splits an endless line instead of buffering it', async () => {
    const stepid = await newStep(t, 'endless');
    const logid = await t.data.logs.add(stepid, 'stdio', 's');
    const writer = new LogWriter(t.data.logs, logid, { maxLineLength: 1000, flushBytes: 4096 });
    for (let i = 0; i < 100; i++) await writer.write('o', 'y'.repeat(777));
    await writer.finish();
    assert.ok(writer.peakBufferedBytes <= 4096 + 1002);
    const log = await t.data.logs.get(logid);
    assert.equal(log?.numLines, Math.ceil((777 * 100) / 1000));
    assert.equal((await t.data.logs.lines(logid, 0, 0))[0], `o${'y'.repeat(1000)}`);
  });

  it('flushes a quiet log after the flush interval', async () => {
    const stepid = await newStep(t, 'quiet');
    const logid = await t.data.logs.add(stepid, 'stdio', 's');
    const writer = new LogWriter(t.data.logs, logid, { flushIntervalMs: 20 });
    await writer.write('h', 'starting\n');
    assert.equal((await t.data.logs.get(logid))?.numLines, 0);
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(await t.data.logs.stdioLines(logid, 0, 0), [{ stream: 'h', text: 'starting' }]);
    await writer.finish();
  });

  it('records section markers across pieces and flushes, on both streams, never in headers', async () => {
    const stepid = await newStep(t, 'sections');
    const logid = await t.data.logs.add(stepid, 'stdio', 's');
    const writer = new LogWriter(t.data.logs, logid, { flushBytes: 4096 });
    await writer.write('h', '--- the worker header is no section\n');
    // A marker cut in two by the pipe, then enough output for several flushes.
    await writer.write('o', '::gro');
    await writer.write('o', 'up::Build step\n');
    for (let i = 0; i < 2000; i++) await writer.write('o', `output ${i}\n`);
    await writer.write('e', '::endgroup::\n+++ Results\nnot a marker: --- here\n');
    await writer.finish();
    const { recorded, markers } = await t.data.logs.sectionMarkers(logid, 10);
    assert.equal(recorded, true);
    assert.deepEqual(markers, [
      { line: 1, kind: 'group', title: 'Build step' },
      { line: 2002, kind: 'endgroup', title: '' },
      { line: 2003, kind: 'unfolded', title: 'Results' },
    ]);
    assert.deepEqual(await t.data.logs.sectionMarkers(logid, 2), {
      recorded: true,
      markers: markers.slice(0, 2),
      truncated: true,
    });
    await t.data.steps.finish(stepid, SUCCESS);
    clock += 40 * 86_400;
    await t.data.logs.deleteContentOlderThan(clock - 30 * 86_400);
    assert.deepEqual((await t.data.logs.sectionMarkers(logid, 10)).markers, [], 'retention drops them too');
  });

  it('deletes old log content on retention but keeps builds, steps and log rows', async () => {
    const oldStep = await newStep(t, 'old');
    const oldLog = await t.data.logs.add(oldStep, 'stdio', 's');
    await t.data.logs.append(oldLog, 'oold output\n');
    await t.data.steps.finish(oldStep, SUCCESS);
    clock += 40 * 86_400;
    const newStepId = await newStep(t, 'new');
    const newLog = await t.data.logs.add(newStepId, 'stdio', 's');
    await t.data.logs.append(newLog, 'onew output\n');
    await t.data.steps.finish(newStepId, SUCCESS);
    // A step still running is never touched, however old.
    const running = await newStep(t, 'running');
    const runningLog = await t.data.logs.add(running, 'stdio', 's');
    await t.data.logs.append(runningLog, 'ostill going\n');

    const removed = await t.data.logs.deleteContentOlderThan(clock - 30 * 86_400);
    assert.ok(removed >= 1);
    assert.equal(await t.data.logs.chunkCount(oldLog), 0);
    const oldRow = await t.data.logs.get(oldLog);
    assert.equal(oldRow?.type, 'd');
    assert.equal(oldRow?.numLines, 1);
    assert.ok(await t.data.steps.get(oldStep));
    assert.deepEqual(await t.data.logs.lines(newLog, 0, 0), ['onew output']);
    assert.deepEqual(await t.data.logs.lines(runningLog, 0, 0), ['ostill going']);
  });
});

describe('log chunk encoding', () => {
  it('stores text raw or compressed, whichever is smaller, and reads both back', () => {
    const encoder = new ChunkEncoder({ scratchBytes: 16 });
    const small = encoder.encode('ohello\n');
    assert.equal(small.compressed, RAW);
    const text = 'ocompiling module ünïcode ✓\n'.repeat(2000);
    const big = encoder.encode(text);
    assert.equal(big.compressed, ZLIB);
    assert.ok(big.content.length < Buffer.byteLength(text) / 10);
    // Encoded results do not share the reused scratch buffer with later chunks.
    encoder.encode('x'.repeat(5000));
    assert.equal(decodeChunk(small.content, small.compressed), 'ohello\n');
    assert.equal(decodeChunk(big.content, big.compressed), text);
    assert.throws(() => decodeChunk(big.content, 9), /unsupported method 9/);
  });

  it('asks for a garbage collection after every few MB of compressed text', () => {
    const calls: unknown[] = [];
    const encoder = new ChunkEncoder({ gc: (options) => calls.push(options) });
    const chunk = `o${'y'.repeat(98)}\n`.repeat(640); // 64,000 bytes
    for (let i = 0; i < 140; i++) encoder.encode(chunk); // 8.96 MB: one request per 8 MiB
    assert.deepEqual(calls, [{ type: 'major', execution: 'async' }]);
  });
});
