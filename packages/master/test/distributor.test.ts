import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BuilderService } from '../src/builders/builder.js';
import type { CollapseFn, ResolvedBuilder, ResolvedWorker } from '../src/config/types.js';
import type { DataLayer } from '../src/data/index.js';
import { defaultCollapsible } from '../src/distributor/collapse.js';
import { Distributor } from '../src/distributor/distributor.js';
import type { Assignment, BuildStarter } from '../src/distributor/slots.js';
import { SKIPPED } from '../src/results.js';
import { WorkerService } from '../src/workers/worker.js';
import { openData, seedRequests, type TestData, tempDir } from './helpers.js';

const noopFactory = { steps: [] };

function builderConfig(
  name: string,
  workerNames: string[],
  extra: Partial<ResolvedBuilder> = {},
): ResolvedBuilder {
  return {
    name,
    workerNames,
    factory: noopFactory,
    properties: {},
    tags: [],
    priority: 0,
    collapseRequests: false,
    ...extra,
  };
}

function workerConfig(name: string, maxBuilds: number | null = 1): ResolvedWorker {
  return { name, password: 'pw', maxBuilds, properties: {}, keepalive: 3600 };
}

/** A build runner stand-in: records a build row and keeps the slot until `finish`. */
class RecordingStarter implements BuildStarter {
  readonly started: Assignment[] = [];
  failNext = 0;
  constructor(
    private readonly data: DataLayer,
    private readonly masterid: number,
  ) {}
  async startBuild(a: Assignment): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('worker refused the build');
    }
    await this.data.builds.add({
      builderid: a.builder.builderid,
      buildrequestid: a.request.id,
      workerid: a.worker.workerid,
      masterid: this.masterid,
    });
    this.started.push(a);
  }
  finishAll(): void {
    for (const a of this.started.splice(0)) a.worker.release();
  }
}

interface World {
  t: TestData;
  masterid: number;
  workers: Map<string, WorkerService>;
  builders: BuilderService[];
  starter: RecordingStarter;
  distributor: Distributor;
  errors: string[];
}

async function world(
  t: TestData,
  masterName: string,
  workers: ResolvedWorker[],
  builders: ResolvedBuilder[],
): Promise<World> {
  const { masterid } = await t.data.masters.register(masterName);
  const ws = new Map<string, WorkerService>();
  for (const c of workers) {
    const w = new WorkerService(c, t.data, () => masterid);
    await w.start();
    await w.attach({ disconnect: async () => {} }, {});
    ws.set(c.name, w);
  }
  const bs: BuilderService[] = [];
  for (const c of builders) {
    const b = new BuilderService(c, t.data);
    await b.start();
    bs.push(b);
  }
  const starter = new RecordingStarter(t.data, masterid);
  const errors: string[] = [];
  const distributor = new Distributor({
    data: t.data,
    masterid,
    starter,
    builders: () => bs,
    worker: (n) => ws.get(n),
    onError: (err, ctx) => errors.push(`${ctx}: ${(err as Error).message}`),
  });
  return { t, masterid, workers: ws, builders: bs, starter, distributor, errors };
}

describe('build request distributor', () => {
  const dir = tempDir();
  after(() => dir.cleanup());
  let n = 0;
  const fresh = () => openData(join(dir.path, `d${++n}.sqlite`));

  it('runs requests by priority, then age', async () => {
    const t = await fresh();
    const w = await world(t, 'm', [workerConfig('w1', 1)], [builderConfig('b', ['w1'])]);
    const low = await seedRequests(t.data, 'b', 2, { priority: 0, submittedAt: 100 });
    const high = await seedRequests(t.data, 'b', 1, { priority: 5, submittedAt: 300 });
    const older = await seedRequests(t.data, 'b', 1, { priority: 0, submittedAt: 50 });
    const order: number[] = [];
    for (let i = 0; i < 4; i++) {
      await w.distributor.distribute();
      assert.equal(w.starter.started.length, 1, 'one worker slot, one build at a time');
      order.push(w.starter.started[0]!.request.id);
      w.starter.finishAll();
    }
    assert.deepEqual(order, [high.brids[0], older.brids[0], low.brids[0], low.brids[1]]);
    await t.close();
  });

  it('spreads work fairly over idle workers and respects maxBuilds', async () => {
    const t = await fresh();
    const w = await world(
      t,
      'm',
      [workerConfig('w1', 2), workerConfig('w2', 2), workerConfig('w3', 1)],
      [builderConfig('b', ['w1', 'w2', 'w3'])],
    );
    await seedRequests(t.data, 'b', 8);
    await w.distributor.distribute();
    const names = w.starter.started.map((a) => a.worker.name);
    assert.equal(names.length, 5, 'capacity is 2 + 2 + 1');
    // Round-robin first, then the workers with room left.
    assert.deepEqual(names.slice(0, 3).sort(), ['w1', 'w2', 'w3']);
    assert.deepEqual(
      [
        w.workers.get('w1')!.runningBuilds,
        w.workers.get('w2')!.runningBuilds,
        w.workers.get('w3')!.runningBuilds,
      ],
      [2, 2, 1],
    );
    assert.equal(await t.data.buildrequests.countPending(), 3);
    // Nothing more fits until a build ends.
    await w.distributor.distribute();
    assert.equal(w.starter.started.length, 5);
    w.starter.finishAll();
    await w.distributor.distribute();
    assert.equal(w.starter.started.length, 3);
    assert.equal(await t.data.buildrequests.countPending(), 0);
    await t.close();
  });

  it('shares workers between builders in rounds instead of letting one builder take all', async () => {
    const t = await fresh();
    const w = await world(
      t,
      'm',
      [workerConfig('w1', 1), workerConfig('w2', 1)],
      [builderConfig('a', ['w1', 'w2']), builderConfig('b', ['w1', 'w2'])],
    );
    await seedRequests(t.data, 'a', 5, { submittedAt: 10 });
    await seedRequests(t.data, 'b', 5, { submittedAt: 20 });
    await w.distributor.distribute();
    assert.deepEqual(w.starter.started.map((a) => a.builder.name).sort(), ['a', 'b']);
    await t.close();
  });

  it('gives idle workers to higher-priority builders first', async () => {
    const t = await fresh();
    const w = await world(
      t,
      'm',
      [workerConfig('w1', 1)],
      [builderConfig('low', ['w1']), builderConfig('high', ['w1'], { priority: 10 })],
    );
    await seedRequests(t.data, 'low', 1, { submittedAt: 1 });
    await seedRequests(t.data, 'high', 1, { submittedAt: 1000 });
    await w.distributor.distribute();
    assert.deepEqual(
      w.starter.started.map((a) => a.builder.name),
      ['high'],
    );
    await t.close();
  });

  it('collapses compatible requests into one build of the newest and skips the rest', async () => {
    const t = await fresh();
    const w = await world(
      t,
      'm',
      [workerConfig('w1', 1)],
      [builderConfig('b', ['w1'], { collapseRequests: true })],
    );
    const builderid = w.builders[0]!.builderid;
    const request = async (branch: string, rev: string) => {
      await t.data.changes.add({ author: 'dev', branch, revision: rev, repository: 'r' });
      const ss = await t.data.sourcestamps.findOrCreate({ repository: 'r', branch, revision: rev });
      const bs = await t.data.buildsets.add({ sourcestampids: [ss], builderids: [builderid] });
      return bs.buildrequestids.get(builderid)!;
    };
    const main1 = await request('main', 'a1');
    const dev1 = await request('dev', 'b1');
    const main2 = await request('main', 'a2');
    const main3 = await request('main', 'a3');
    await w.distributor.distribute();
    assert.equal(w.starter.started.length, 1);
    const a = w.starter.started[0]!;
    assert.equal(a.request.id, main3);
    assert.deepEqual(
      a.collapsed.map((r) => r.id),
      [main1, main2],
    );
    for (const id of [main1, main2]) {
      const r = await t.data.buildrequests.get(id);
      assert.equal(r?.complete, true);
      assert.equal(r?.results, SKIPPED);
    }
    // The other branch is not collapsed and still waits.
    assert.deepEqual(
      (await t.data.buildrequests.pendingForBuilder(builderid)).map((p) => p.id),
      [dev1],
    );
    await t.close();
  });

  it("follows Buildbot's collapse rules for source stamps", () => {
    const ss = (over: object = {}) => ({
      sourcestampid: 1,
      codebase: '',
      repository: 'r',
      branch: 'main',
      project: '',
      revision: 'x',
      hasPatch: false,
      hasChanges: false,
      ...over,
    });
    const req = (id: number, sources: ReturnType<typeof ss>[]) => ({
      id,
      buildsetid: id,
      builderid: 1,
      priority: 0,
      submittedAt: 0,
      sources,
    });
    assert.equal(defaultCollapsible(req(1, [ss()]), req(2, [ss()])), true, 'same revision');
    assert.equal(
      defaultCollapsible(req(1, [ss()]), req(2, [ss({ revision: 'y' })])),
      false,
      'other revision',
    );
    assert.equal(
      defaultCollapsible(
        req(1, [ss({ hasChanges: true, revision: 'x' })]),
        req(2, [ss({ hasChanges: true, revision: 'y' })]),
      ),
      true,
      'both from changes',
    );
    assert.equal(defaultCollapsible(req(1, [ss({ hasChanges: true })]), req(2, [ss()])), false);
    assert.equal(
      defaultCollapsible(req(1, [ss({ hasPatch: true })]), req(2, [ss({ hasPatch: true })])),
      false,
    );
    assert.equal(defaultCollapsible(req(1, [ss()]), req(2, [ss({ branch: 'dev' })])), false);
    assert.equal(defaultCollapsible(req(1, [ss()]), req(2, [ss(), ss({ codebase: 'lib' })])), false);
    assert.equal(
      defaultCollapsible(req(2, [ss()]), req(1, [ss()])),
      false,
      'never collapse into an older request',
    );
  });

  it('asks canStartBuild and nextWorker, and uses a custom collapse function', async () => {
    const t = await fresh();
    const asked: string[] = [];
    const collapse: CollapseFn = async () => false;
    const w = await world(
      t,
      'm',
      [workerConfig('w1', 5), workerConfig('w2', 5), workerConfig('w3', 5)],
      [
        builderConfig('b', ['w1', 'w2', 'w3'], {
          collapseRequests: collapse,
          canStartBuild: (_b, worker) => {
            asked.push(worker.name);
            return worker.name !== 'w2';
          },
          nextWorker: (_b, workers) => workers.find((x) => x.name === 'w3') ?? null,
        }),
      ],
    );
    await seedRequests(t.data, 'b', 3, { branch: 'same' });
    await w.distributor.distribute();
    assert.deepEqual(
      w.starter.started.map((a) => a.worker.name),
      ['w3', 'w3', 'w3'],
    );
    assert.ok(asked.includes('w2'));
    assert.ok(w.starter.started.every((a) => a.collapsed.length === 0));
    await t.close();
  });

  it('gives the requests back and frees the slot when a build cannot start', async () => {
    const t = await fresh();
    const w = await world(t, 'm', [workerConfig('w1', 1)], [builderConfig('b', ['w1'])]);
    const { brids } = await seedRequests(t.data, 'b', 1);
    w.starter.failNext = 1;
    await w.distributor.distribute();
    assert.equal(w.starter.started.length, 0);
    assert.match(w.errors[0] ?? '', /worker refused the build/);
    assert.equal(w.workers.get('w1')!.runningBuilds, 0);
    assert.equal((await t.data.buildrequests.get(brids[0]!))?.claimedByMaster, null);
    await w.distributor.distribute();
    assert.equal(w.starter.started.length, 1);
    await t.close();
  });

  it('never starts one request twice when two masters distribute from one database', async () => {
    const file = join(dir.path, 'two-masters.sqlite');
    const t1 = await openData(file);
    const t2 = await openData(file);
    const cfg = [builderConfig('b', ['w1', 'w2'])];
    const w1 = await world(t1, 'm1', [workerConfig('w1', 50), workerConfig('w2', 50)], cfg);
    const w2 = await world(t2, 'm2', [workerConfig('w1', 50), workerConfig('w2', 50)], cfg);
    const { brids } = await seedRequests(t1.data, 'b', 60);
    await Promise.all([w1.distributor.distribute(), w2.distributor.distribute()]);
    const started = [...w1.starter.started, ...w2.starter.started]
      .map((a) => a.request.id)
      .sort((a, b) => a - b);
    assert.deepEqual(started, brids);
    assert.equal(await t1.data.buildrequests.countPending(), 0);
    await t1.close();
    await t2.close();
  });

  it('starts work when requests arrive on the bus', async () => {
    const t = await fresh();
    const w = await world(t, 'm', [workerConfig('w1', 3)], [builderConfig('b', ['w1'])]);
    w.distributor.listen(t.bus);
    await seedRequests(t.data, 'b', 2);
    for (let i = 0; i < 50 && w.starter.started.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(w.starter.started.length, 2);
    await w.distributor.stop();
    await t.close();
  });
});
