// Counting locks in real builds on a real (Lathe) worker: a worker lock whose per-worker max
// count lets two builds share the machine while a third waits, and a master-wide counting
// lock taken by steps with different counts. Each build holds its lock until the test
// writes a release file, so who runs and who waits is observed, not timed.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { SUCCESS } from '../src/results.js';
import { waitFor, workerAvailable } from './bbworker.js';
import { tempDir } from './helpers.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

function configText(releaseDir: string): string {
  const hold = (file: string) =>
    JSON.stringify(`echo holding; while [ ! -f ${join(releaseDir, file)} ]; do sleep 0.05; done`);
  return `import { buildFactory, defineConfig, masterLock, shellCommand, workerLock } from '${lathe}';
// One unit per worker by default, two on w1.
const cpu = workerLock('cpu', { maxCount: 1, maxCountForWorker: { w1: 2 } });
const pool = masterLock('pool', { maxCount: 3 });
const cpuBuilder = (name) => ({
  name,
  workerNames: ['w1'],
  locks: [cpu.access('counting')],
  factory: buildFactory(shellCommand({ name: 'work', command: ${hold('cpu')} })),
});
const poolBuilder = (name, count) => ({
  name,
  workerNames: ['w1'],
  factory: buildFactory(
    shellCommand({ name: 'prepare', command: 'true' }),
    shellCommand({ name: 'use', command: ${hold('pool')}, locks: [pool.access('counting', count)] }),
  ),
});
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [cpuBuilder('cpu-a'), cpuBuilder('cpu-b'), cpuBuilder('cpu-c'), poolBuilder('pool-2', 2), poolBuilder('pool-1', 1), poolBuilder('pool-1b', 1)],
});
`;
}

describe('counting locks in real builds', { skip: !workerAvailable('lathe') }, () => {
  const dir = tempDir('lathe-locks-');
  const masterDir = join(dir.path, 'master');
  const releaseDir = join(dir.path, 'release');
  let env: MasterAndWorker | undefined;
  let master: Master;

  before(async () => {
    mkdirSync(releaseDir);
    env = await startMasterAndWorker({
      kind: 'lathe',
      masterDir,
      workerDir: join(dir.path, 'worker'),
      configText: configText(releaseDir),
      name: 'locks',
    });
    master = env.master;
  });

  after(async () => {
    await env?.stop();
    dir.cleanup();
  });

  async function buildOf(buildrequestid: number) {
    await waitFor(
      async () => (await master.data.builds.forRequest(buildrequestid)).length > 0,
      20_000,
      'the build to start',
    );
    return (await master.data.builds.forRequest(buildrequestid))[0]!;
  }

  async function stepOf(buildid: number, name: string) {
    return (await master.data.steps.forBuild(buildid)).find((s) => s.name === name);
  }

  /** The step's command runs on the worker: it said so in its log. */
  async function holding(buildid: number, name: string): Promise<boolean> {
    const step = await stepOf(buildid, name);
    const log = step && (await master.data.logs.forStep(step.id)).find((l) => l.name === 'stdio');
    const row = log && (await master.data.logs.get(log.id));
    if (!row || row.numLines === 0) return false;
    return (await master.data.logs.lines(row.id, 0, row.numLines - 1)).includes('oholding');
  }

  it('a worker lock with maxCountForWorker 2 runs two builds on w1 and makes the third wait', async () => {
    const requests = [];
    for (const builder of ['cpu-a', 'cpu-b', 'cpu-c']) requests.push(await forceBuild(master, { builder }));
    const builds = await Promise.all(requests.map((r) => buildOf(r.buildrequestid)));
    await waitFor(
      async () => {
        const states = await Promise.all(
          builds.map(async (b) => (await master.data.builds.get(b.id))!.stateString),
        );
        return states.filter((s) => s === 'waiting for locks').length === 1 && (await running()) === 2;
      },
      20_000,
      'two builds holding the lock and one waiting',
    );
    async function running() {
      let n = 0;
      for (const b of builds) if (await holding(b.id, 'work')) n++;
      return n;
    }
    assert.deepEqual(master.locks.holders('cpu', 'w1'), { exclusive: false, counted: 2, capacity: 2 });
    assert.equal(master.locks.waiting().length, 1);
    const waiter = (
      await Promise.all(builds.map(async (b) => ({ b, row: await master.data.builds.get(b.id) })))
    ).find((x) => x.row!.stateString === 'waiting for locks')!.b;
    assert.equal(await stepOf(waiter.id, 'work'), undefined, 'the waiting build runs no step');

    writeFileSync(join(releaseDir, 'cpu'), '');
    for (const r of requests)
      assert.equal((await waitForRequest(master, r.buildrequestid, 30_000)).results, SUCCESS);
    // The waiter got the lock only once a holder let go of it.
    const done = await Promise.all(
      builds.filter((b) => b.id !== waiter.id).map((b) => master.data.builds.get(b.id)),
    );
    const waiterStep = await stepOf(waiter.id, 'work');
    assert.ok(waiterStep!.startedAt! >= Math.min(...done.map((b) => b!.completeAt!)));
    assert.deepEqual(master.locks.holders('cpu', 'w1')?.counted ?? 0, 0);
  });

  it('a counting master lock admits steps while their counts fit (2 + 1 of 3) and queues the rest', async () => {
    const two = await forceBuild(master, { builder: 'pool-2' });
    const one = await forceBuild(master, { builder: 'pool-1' });
    const [b2, b1] = [await buildOf(two.buildrequestid), await buildOf(one.buildrequestid)];
    await waitFor(
      async () => (await holding(b2.id, 'use')) && (await holding(b1.id, 'use')),
      20_000,
      'both steps to hold the lock',
    );
    assert.deepEqual(master.locks.holders('pool'), { exclusive: false, counted: 3, capacity: 3 });

    const late = await forceBuild(master, { builder: 'pool-1b' });
    const bl = await buildOf(late.buildrequestid);
    await waitFor(
      async () => (await stepOf(bl.id, 'use'))?.stateString === 'waiting for locks',
      20_000,
      'the third step to wait',
    );
    assert.equal((await stepOf(bl.id, 'prepare'))?.results, SUCCESS, 'steps without the lock ran');

    writeFileSync(join(releaseDir, 'pool'), '');
    for (const r of [two, one, late])
      assert.equal((await waitForRequest(master, r.buildrequestid, 30_000)).results, SUCCESS);
    assert.equal(master.locks.holders('pool')?.counted ?? 0, 0);
  });
});
