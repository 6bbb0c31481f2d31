import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { finishBuild } from '../src/data/lifecycle.js';
import { FAILURE, RETRY, SUCCESS } from '../src/results.js';
import { openData, seedRequests, type TestData, tempDir } from './helpers.js';

describe('data layer', () => {
  const dir = tempDir();
  let t: TestData;
  let masterid: number;
  before(async () => {
    t = await openData(join(dir.path, 'data.sqlite'));
    masterid = (await t.data.masters.register('data-master')).masterid;
  });
  after(async () => {
    await t.close();
    dir.cleanup();
  });

  it('stores changes with files and properties, shares equal source stamps, and finds builds by change', async () => {
    const changeid = await t.data.changes.add({
      author: 'Ada <ada@example.org>',
      comments: 'fix the frobnicator',
      branch: 'main',
      revision: 'c0ffee',
      repository: 'https://example.org/r.git',
      files: ['src/a.ts', 'README.md'],
      properties: { reviewed: true },
      when: 1_700_000_000,
    });
    const change = await t.data.changes.get(changeid);
    assert.equal(change?.author, 'Ada <ada@example.org>');
    assert.deepEqual(change?.files, ['src/a.ts', 'README.md']);
    assert.deepEqual(change?.properties, { reviewed: true });
    assert.equal(change?.when, 1_700_000_000);
    const ss = await t.data.sourcestamps.findOrCreate({
      repository: 'https://example.org/r.git',
      branch: 'main',
      revision: 'c0ffee',
    });
    assert.equal(ss, change?.sourcestampid, 'the same stamp is shared, not duplicated');
    assert.deepEqual(await t.data.changes.recent(1), [changeid]);

    const builderid = await t.data.builders.findOrCreate('by-change');
    const bs = await t.data.buildsets.add({
      sourcestampids: [ss],
      builderids: [builderid],
      reason: 'change',
    });
    const brid = bs.buildrequestids.get(builderid)!;
    await t.data.buildrequests.claim([brid], masterid);
    const b = await t.data.builds.add({ builderid, buildrequestid: brid, workerid: null, masterid });
    assert.deepEqual(await t.data.changes.buildIds(changeid), [b.buildid]);
  });

  it('numbers builds per builder and lists the latest first', async () => {
    const { builderid, brids } = await seedRequests(t.data, 'numbers', 3);
    const other = await seedRequests(t.data, 'numbers-other', 1);
    await t.data.buildrequests.claim([...brids, ...other.brids], masterid);
    const numbers: number[] = [];
    for (const brid of brids) {
      numbers.push(
        (await t.data.builds.add({ builderid, buildrequestid: brid, workerid: null, masterid })).number,
      );
    }
    const o = await t.data.builds.add({
      builderid: other.builderid,
      buildrequestid: other.brids[0]!,
      workerid: null,
      masterid,
    });
    assert.deepEqual(numbers, [1, 2, 3]);
    assert.equal(o.number, 1);
    assert.deepEqual(
      (await t.data.builds.latestForBuilder(builderid, 2)).map((b) => b.number),
      [3, 2],
    );
    assert.equal((await t.data.builds.getByNumber(builderid, 2))?.buildrequestid, brids[1]);
  });

  it('keeps step names unique within a build, and stores properties and metrics', async () => {
    const { builderid, brids } = await seedRequests(t.data, 'steps', 2);
    await t.data.buildrequests.claim(brids, masterid);
    const b1 = await t.data.builds.add({ builderid, buildrequestid: brids[0]!, workerid: null, masterid });
    const s1 = await t.data.steps.add(b1.buildid, 'test');
    const s2 = await t.data.steps.add(b1.buildid, 'test');
    assert.deepEqual([s1.number, s1.name, s2.number, s2.name], [0, 'test', 1, 'test_2']);
    await t.data.steps.addUrl(s1.stepid, 'coverage', 'https://example.org/cov');
    assert.deepEqual((await t.data.steps.get(s1.stepid))?.urls, [
      { name: 'coverage', url: 'https://example.org/cov' },
    ]);
    const l1 = await t.data.logs.add(s1.stepid, 'stdio', 's');
    const l2 = await t.data.logs.add(s1.stepid, 'std io', 's');
    assert.deepEqual(
      (await t.data.logs.forStep(s1.stepid)).map((l) => [l.id, l.slug]),
      [
        [l1, 'stdio'],
        [l2, 'std_io'],
      ],
    );

    await t.data.builds.setProperty(b1.buildid, 'got_revision', 'abc', 'Git');
    await t.data.builds.setProperty(b1.buildid, 'got_revision', 'abd', 'Git');
    assert.deepEqual(await t.data.builds.properties(b1.buildid), { got_revision: ['abd', 'Git'] });

    const b2 = await t.data.builds.add({ builderid, buildrequestid: brids[1]!, workerid: null, masterid });
    // A running build and step name what they added so far: the same names and slugs, one
    // insert each, and the unique constraints still refuse a name list that was wrong.
    const taken: string[] = [];
    for (const n of ['test', 'test', 'test_2'])
      taken.push((await t.data.steps.add(b2.buildid, n, { taken })).name);
    assert.deepEqual(taken, ['test', 'test_2', 'test_2_2']);
    const step = (await t.data.steps.forBuilds([b2.buildid])).get(b2.buildid)![0]!;
    const logNames: string[] = [];
    for (const n of ['std io', 'std_io', 'stdio']) {
      await t.data.logs.add(step.id, n, 's', logNames);
      logNames.push(n);
    }
    assert.deepEqual(
      (await t.data.logs.forStep(step.id)).map((l) => l.slug),
      ['std_io', 'std_io_2', 'stdio'],
    );
    await assert.rejects(t.data.steps.add(b2.buildid, 'again', { taken: [] }));
    await assert.rejects(t.data.logs.add(step.id, 'stdio', 's', []));
    await t.data.builds.setMetric(b1.buildid, 'tests.passed', 100);
    await t.data.builds.setMetric(b2.buildid, 'tests.passed', 98);
    await t.data.builds.setMetric(b2.buildid, 'tests.passed', 99);
    assert.deepEqual(
      (await t.data.builds.metricHistory('tests.passed', builderid)).map((p) => [p.number, p.value]),
      [
        [1, 100],
        [2, 99],
      ],
    );
  });

  it('records worker connections and configured builders', async () => {
    const workerid = await t.data.workers.findOrCreate('w-data');
    assert.equal(await t.data.workers.findOrCreate('w-data'), workerid);
    await t.data.workers.connected(workerid, masterid, { host: 'box', version: '4.0' });
    assert.deepEqual(await t.data.workers.connectedTo(masterid), [workerid]);
    assert.deepEqual((await t.data.workers.get(workerid))?.info, { host: 'box', version: '4.0' });
    await t.data.workers.disconnected(workerid, masterid);
    assert.deepEqual(await t.data.workers.connectedTo(masterid), []);
    const builderid = await t.data.builders.findOrCreate('configured');
    await t.data.workers.setConfigured(masterid, builderid, [workerid]);
    assert.deepEqual(await t.data.workers.configuredFor(builderid), [workerid]);
  });

  it('finishes a build by completing its requests, or re-queueing them on RETRY', async () => {
    const { builderid, brids } = await seedRequests(t.data, 'finish', 3);
    await t.data.buildrequests.claim(brids, masterid);
    const b1 = await t.data.builds.add({ builderid, buildrequestid: brids[0]!, workerid: null, masterid });
    assert.equal(
      await finishBuild(t.data, {
        buildid: b1.buildid,
        results: FAILURE,
        masterid,
        buildrequestids: [brids[0]!],
      }),
      'completed',
    );
    assert.equal((await t.data.buildrequests.get(brids[0]!))?.results, FAILURE);
    assert.equal((await t.data.builds.get(b1.buildid))?.results, FAILURE);

    const b2 = await t.data.builds.add({ builderid, buildrequestid: brids[1]!, workerid: null, masterid });
    assert.equal(
      await finishBuild(t.data, {
        buildid: b2.buildid,
        results: RETRY,
        masterid,
        buildrequestids: [brids[1]!],
      }),
      'requeued',
    );
    const retried = await t.data.buildrequests.get(brids[1]!);
    assert.equal(retried?.complete, false);
    assert.equal(retried?.claimedByMaster, null);
    // The same request can be built again, under a new build number.
    await t.data.buildrequests.claim([brids[1]!], masterid);
    const b3 = await t.data.builds.add({ builderid, buildrequestid: brids[1]!, workerid: null, masterid });
    await finishBuild(t.data, {
      buildid: b3.buildid,
      results: SUCCESS,
      masterid,
      buildrequestids: [brids[1]!],
    });
    assert.deepEqual(
      (await t.data.builds.forRequest(brids[1]!)).map((b) => [b.number, b.results]),
      [
        [2, RETRY],
        [3, SUCCESS],
      ],
    );
  });
});
