import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  cleanUpAfterMaster,
  expireMasters,
  INTERRUPTED_STATE,
  registerAndRecover,
} from '../src/data/index.js';
import { RETRY, SUCCESS } from '../src/results.js';
import { openData, seedRequests, tempDir } from './helpers.js';
import { testDatabaseUrl } from './test-database.js';

describe('crash recovery', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  it('after kill -9 with a build running, marks it interrupted, re-queues its requests, keeps the record', async () => {
    const file = join(dir.path, 'crash.sqlite');
    const seed = await openData(file);
    const { brids } = await seedRequests(seed.data, 'linux', 4);
    await seed.close();

    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'crash-child.js'), await testDatabaseUrl(file), 'linux'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    while (!out.includes('\n')) {
      const [chunk] = (await once(child.stdout, 'data')) as [string];
      out += chunk;
    }
    const ids = JSON.parse(out) as {
      masterid: number;
      builderid: number;
      b1: number;
      b2: number;
      s0: { stepid: number };
      s1: { stepid: number };
      logid: number;
    };
    child.kill('SIGKILL');
    await once(child, 'exit');

    const t = await openData(file);
    const finished: number[] = [];
    t.bus.subscribe('build.finished', (m) => {
      finished.push(m.payload.buildid);
    });
    const { masterid, recovered } = await registerAndRecover(t.data, 'crashy');
    assert.equal(masterid, ids.masterid);
    assert.ok(recovered);
    assert.deepEqual(recovered.interruptedBuilds, [ids.b2]);
    assert.deepEqual(recovered.interruptedSteps, [ids.s1.stepid]);
    assert.deepEqual(
      [...recovered.releasedRequests].sort((a, b) => a - b),
      [brids[1], brids[2]],
    );

    const b1 = await t.data.builds.get(ids.b1);
    assert.equal(b1?.results, SUCCESS);
    assert.equal(b1?.stateString, 'build successful');
    const b2 = await t.data.builds.get(ids.b2);
    assert.equal(b2?.results, RETRY);
    assert.equal(b2?.stateString, INTERRUPTED_STATE);
    assert.notEqual(b2?.completeAt, null);

    const steps = await t.data.steps.forBuild(ids.b2);
    assert.deepEqual(
      steps.map((s) => [s.name, s.results]),
      [
        ['checkout', SUCCESS],
        ['compile', RETRY],
      ],
    );
    const log = await t.data.logs.get(ids.logid);
    assert.equal(log?.complete, true);
    assert.equal(log?.numLines, 2500);
    assert.deepEqual(await t.data.logs.lines(ids.logid, 2499, 2499), ['ocompiling unit 2499']);
    assert.equal((await t.data.builds.metricHistory('warnings', ids.builderid))[0]?.value, 3);

    // The interrupted request and the claimed-but-unstarted one are pending again, in order.
    const pending = await t.data.buildrequests.pendingForBuilder(ids.builderid);
    assert.deepEqual(
      pending.map((p) => p.id),
      [brids[1], brids[2], brids[3]],
    );
    assert.equal((await t.data.buildrequests.get(brids[0]!))?.complete, true);
    await t.bus.idle();
    assert.deepEqual(finished, [ids.b2]);

    // A clean second start finds nothing to recover.
    await t.data.masters.setInactive(masterid);
    assert.equal((await registerAndRecover(t.data, 'crashy')).recovered, null);
    await t.close();
  });

  it('expires another master whose heartbeat stopped, exactly once', async () => {
    let clock = 1_000_000;
    const file = join(dir.path, 'expire.sqlite');
    const a = await openData(file, () => clock);
    const b = await openData(file, () => clock);
    const dead = (await a.data.masters.register('dead')).masterid;
    const alive = (await b.data.masters.register('alive')).masterid;
    const { brids } = await seedRequests(a.data, 'mac', 1);
    await a.data.buildrequests.claim(brids, dead);
    clock += 600;
    await b.data.masters.heartbeat(alive);
    const reports = await expireMasters(b.data, alive, 300);
    assert.deepEqual(
      reports.map((r) => [r.masterid, r.releasedRequests]),
      [[dead, brids]],
    );
    assert.equal((await b.data.masters.get(dead))?.active, false);
    assert.deepEqual(await expireMasters(b.data, alive, 300), []);
    assert.equal((await b.data.buildrequests.get(brids[0]!))?.claimedByMaster, null);
    // Cleaning up is idempotent.
    const again = await cleanUpAfterMaster(b.data, dead);
    assert.deepEqual(again.releasedRequests, []);
    await a.close();
    await b.close();
  });
});
