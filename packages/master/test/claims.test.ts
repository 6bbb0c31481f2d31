import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { AlreadyClaimedError, NotClaimedError } from '../src/data/errors.js';
import { FAILURE, SUCCESS } from '../src/results.js';
import { openData, seedRequests, type TestData, tempDir } from './helpers.js';
import { testDatabaseUrl } from './test-database.js';

const run = promisify(execFile);

describe('build request claims', () => {
  const dir = tempDir();
  const file = join(dir.path, 'state.sqlite');
  let a: TestData;
  let b: TestData;
  before(async () => {
    a = await openData(file);
    b = await openData(file);
  });
  after(async () => {
    await a.close();
    await b.close();
    dir.cleanup();
  });

  it('gives each request to exactly one of two data layers racing on one file', async () => {
    const m1 = (await a.data.masters.register('m1')).masterid;
    const m2 = (await b.data.masters.register('m2')).masterid;
    const { brids } = await seedRequests(a.data, 'race', 120);
    const attempt = async (t: TestData, masterid: number, id: number) => {
      try {
        await t.data.buildrequests.claim([id], masterid);
        return masterid;
      } catch (err) {
        assert.ok(err instanceof AlreadyClaimedError, String(err));
        return null;
      }
    };
    // Both masters go for every request at the same time, in opposite orders.
    const results = await Promise.all([
      ...brids.map((id) => attempt(a, m1, id)),
      ...[...brids].reverse().map((id) => attempt(b, m2, id)),
    ]);
    const wins = results.filter((r) => r !== null);
    assert.equal(wins.length, brids.length, 'every request claimed exactly once');
    const rows = await b.data.buildrequests.getMany(brids);
    for (const r of rows) assert.ok(r.claimedByMaster === m1 || r.claimedByMaster === m2);
    assert.equal(
      rows.filter((r) => r.claimedByMaster === m1).length,
      results.slice(0, brids.length).filter(Boolean).length,
    );
  });

  it('claims all-or-nothing', async () => {
    const m1 = (await a.data.masters.register('m1')).masterid;
    const m2 = (await b.data.masters.register('m2')).masterid;
    const { brids } = await seedRequests(a.data, 'atomic', 3);
    await b.data.buildrequests.claim([brids[2]!], m2);
    await assert.rejects(a.data.buildrequests.claim(brids, m1), (err: unknown) => {
      assert.ok(err instanceof AlreadyClaimedError);
      assert.deepEqual(err.buildrequestids, brids);
      return true;
    });
    const rows = await a.data.buildrequests.getMany(brids);
    assert.deepEqual(
      rows.map((r) => r.claimedByMaster),
      [null, null, m2],
    );
  });

  it('unclaims only its own incomplete requests, and completes only claimed ones', async () => {
    const m1 = (await a.data.masters.register('m1')).masterid;
    const m2 = (await b.data.masters.register('m2')).masterid;
    const { brids } = await seedRequests(a.data, 'unclaim', 2);
    await a.data.buildrequests.claim([brids[0]!], m1);
    await b.data.buildrequests.claim([brids[1]!], m2);
    assert.equal(await a.data.buildrequests.unclaim(brids, m1), 1);
    assert.equal((await a.data.buildrequests.get(brids[0]!))?.claimedByMaster, null);
    assert.equal((await a.data.buildrequests.get(brids[1]!))?.claimedByMaster, m2);
    await assert.rejects(a.data.buildrequests.complete([brids[1]!], FAILURE, m1), NotClaimedError);
    await b.data.buildrequests.complete([brids[1]!], SUCCESS, m2);
    const done = await a.data.buildrequests.get(brids[1]!);
    assert.equal(done?.complete, true);
    assert.equal(done?.results, SUCCESS);
    // A complete request can never be claimed again.
    await assert.rejects(a.data.buildrequests.claim([brids[1]!], m1), AlreadyClaimedError);
  });

  it('completes the buildset when its last request completes', async () => {
    const m1 = (await a.data.masters.register('m1')).masterid;
    const x = await a.data.builders.findOrCreate('bs-x');
    const y = await a.data.builders.findOrCreate('bs-y');
    const ss = await a.data.sourcestamps.findOrCreate({ repository: 'r', revision: 'abc' });
    const events: number[] = [];
    const sub = a.bus.subscribe('buildset.complete', (m) => {
      events.push(m.payload.results);
    });
    const bs = await a.data.buildsets.add({ sourcestampids: [ss], builderids: [x, y] });
    const ids = [...bs.buildrequestids.values()];
    await a.data.buildrequests.claim(ids, m1);
    await a.data.buildrequests.complete([ids[0]!], SUCCESS, m1);
    assert.equal((await a.data.buildsets.get(bs.buildsetid))?.complete, false);
    await a.data.buildrequests.complete([ids[1]!], FAILURE, m1);
    const row = await a.data.buildsets.get(bs.buildsetid);
    assert.equal(row?.complete, true);
    assert.equal(row?.results, FAILURE);
    await a.bus.idle();
    assert.deepEqual(events, [FAILURE]);
    sub.unsubscribe();
  });

  it('gives each request to exactly one of several master processes, which number builds and log lines without gaps', async () => {
    const { brids } = await seedRequests(a.data, 'procs', 150);
    // One builder and one log that all processes write to at once.
    const builderid = await a.data.builders.findOrCreate('procs-shared');
    const m0 = (await a.data.masters.register('m0')).masterid;
    const { brids: seed } = await seedRequests(a.data, 'procs-log', 1);
    await a.data.buildrequests.claim(seed, m0);
    const host = await a.data.builds.add({
      builderid,
      buildrequestid: seed[0]!,
      workerid: null,
      masterid: m0,
    });
    const { stepid } = await a.data.steps.add(host.buildid, 'shared');
    const logid = await a.data.logs.add(stepid, 'stdio', 's');
    const child = join(import.meta.dirname, 'claim-child.js');
    const url = await testDatabaseUrl(file);
    const outs = await Promise.all(
      ['p1', 'p2', 'p3', 'p4'].map((name, i) => {
        const order = i % 2 === 0 ? brids : [...brids].reverse();
        return run(process.execPath, [
          child,
          url,
          name,
          JSON.stringify(order),
          String(builderid),
          String(logid),
        ]);
      }),
    );
    const results = outs.map((o) => JSON.parse(o.stdout) as { won: number[]; numbers: number[] });
    const all = results.flatMap((r) => r.won).sort((x, y) => x - y);
    assert.deepEqual(all, brids);
    const rows = await a.data.buildrequests.getMany(brids);
    assert.ok(rows.every((r) => r.claimedByMaster !== null));
    // Build 1 is the host build; the processes' builds are 2..151, each number once.
    const numbers = results.flatMap((r) => r.numbers).sort((x, y) => x - y);
    assert.deepEqual(
      numbers,
      brids.map((_, i) => i + 2),
    );
    const stored = (await a.data.builds.latestForBuilder(builderid, 500))
      .map((b) => b.number)
      .sort((x, y) => x - y);
    assert.deepEqual(stored, [1, ...numbers]);
    // Every appended line is there once, at consecutive line numbers.
    const log = await a.data.logs.get(logid);
    assert.equal(log?.numLines, brids.length);
    const lines = await a.data.logs.lines(logid, 0, brids.length - 1);
    assert.equal(lines.length, brids.length);
    assert.equal(new Set(lines).size, brids.length);
    assert.ok(
      lines.every((l) => /^op\d request \d+ build \d+$/.test(l)),
      lines.find((l) => !/^op/.test(l)),
    );
    assert.equal(await a.data.logs.chunkCount(logid), brids.length);
  });
});
