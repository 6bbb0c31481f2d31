import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../src/config/errors.js';
import type { Assignment, BuildStarter } from '../src/distributor/slots.js';
import { waitFor } from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

function configText(opts: { workers: string; builders: string; extra?: string }): string {
  return `import { defineConfig, buildFactory } from '${lathe}';
const compile = { name: 'compile', async run() { return 0 as const; } };
export default defineConfig({
  workers: [${opts.workers}],
  builders: [${opts.builders}],
  ${opts.extra ?? ''}
});
`;
}

class Starter implements BuildStarter {
  readonly started: Assignment[] = [];
  async startBuild(a: Assignment): Promise<void> {
    this.started.push(a);
  }
}

describe('master', () => {
  const dir = tempDir('lathe-masterdir-');
  after(() => dir.cleanup());
  const configFile = join(dir.path, 'master.config.ts');

  it('reconfigures workers and builders in place, keeping connections; a broken config changes nothing', async () => {
    writeFileSync(
      configFile,
      configText({
        workers: `{ name: 'w1', password: 'a', maxBuilds: 1 }, { name: 'w2', password: 'b' }`,
        builders: `{ name: 'linux', workerNames: ['w1', 'w2'], factory: buildFactory(compile) },
                   { name: 'old', workerNames: ['w2'], factory: buildFactory(compile) }`,
      }),
    );
    const starter = new Starter();
    const master = await startMaster({ basedir: dir.path, name: 'test-master', buildStarter: starter });
    assert.equal(master.recovered, null);
    assert.equal(master.config.workerPort.port, 9989);

    const w1 = master.workers.get('w1')!;
    const w2 = master.workers.get('w2')!;
    const linux = master.builders.get('linux')!;
    const disconnects: string[] = [];
    await w1.attach({ disconnect: async (why) => void disconnects.push(`w1: ${why}`) }, { host: 'h1' });
    await w2.attach({ disconnect: async (why) => void disconnects.push(`w2: ${why}`) }, { host: 'h2' });
    assert.ok(w1.checkPassword('a'));
    assert.ok(!w1.checkPassword('b'));

    writeFileSync(
      configFile,
      configText({
        workers: `{ name: 'w1', password: 'a2', maxBuilds: 3 }, { name: 'w3', password: 'c' }`,
        builders: `{ name: 'linux', workerNames: ['w1', 'w3'], factory: buildFactory(compile), description: 'Linux' },
                   { name: 'new', workerNames: ['w3'], factory: buildFactory(compile) }`,
      }),
    );
    const result = await master.reconfig();
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    assert.deepEqual(result.workers, { added: ['w3'], reconfigured: ['w1'], replaced: [], removed: ['w2'] });
    assert.deepEqual(result.builders, {
      added: ['new'],
      reconfigured: ['linux'],
      replaced: [],
      removed: ['old'],
    });
    assert.equal(master.workers.get('w1'), w1, 'same service object');
    assert.equal(w1.connected, true, 'w1 stays connected');
    assert.equal(w1.maxBuilds, 3);
    assert.ok(w1.checkPassword('a2'));
    assert.equal(master.builders.get('linux'), linux);
    assert.equal(linux.config.description, 'Linux');
    assert.deepEqual(disconnects, ['w2: worker removed from the master configuration']);
    assert.equal((await master.data.builders.get(linux.builderid))?.description, 'Linux');
    assert.deepEqual(
      (await master.data.workers.configuredFor(linux.builderid)).sort(),
      [w1.workerid, master.workers.get('w3')!.workerid].sort(),
    );

    // A config that fails validation leaves everything as it was and says where.
    writeFileSync(
      configFile,
      configText({
        workers: `{ name: 'w1', password: 'a2' }`,
        builders: `{ name: 'linux', workerNames: ['nope'], factory: buildFactory(compile) }`,
      }),
    );
    const bad = await master.reconfig();
    assert.equal(bad.ok, false);
    if (!bad.ok) {
      assert.ok(bad.error instanceof ConfigError);
      assert.equal(bad.error.issues[0]?.location?.file, configFile);
      assert.equal(bad.error.issues[0]?.location?.line, 5);
    }
    assert.deepEqual(
      master.config.workers.map((w) => w.name),
      ['w1', 'w3'],
    );
    assert.ok(master.workers.get('w3'));

    // Work flows to the connected worker.
    const { sourcestamps, buildsets } = master.data;
    const ss = await sourcestamps.findOrCreate({ repository: 'r', revision: 'abc' });
    await buildsets.add({ sourcestampids: [ss], builderids: [linux.builderid] });
    for (let i = 0; i < 50 && starter.started.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(starter.started[0]?.worker.name, 'w1');

    await master.stop();
  });

  it('recovers from a previous run that did not stop, and refuses a broken config at start', async () => {
    writeFileSync(
      configFile,
      configText({
        workers: `{ name: 'w1', password: 'a' }`,
        builders: `{ name: 'linux', workerNames: ['w1'], factory: buildFactory(compile) }`,
      }),
    );
    const first = await startMaster({ basedir: dir.path, name: 'crashy' });
    const linux = first.builders.get('linux')!;
    const ss = await first.data.sourcestamps.findOrCreate({ repository: 'r', revision: 'x' });
    const bs = await first.data.buildsets.add({ sourcestampids: [ss], builderids: [linux.builderid] });
    const brid = bs.buildrequestids.get(linux.builderid)!;
    await first.data.buildrequests.claim([brid], first.masterid);
    await first.data.builds.add({
      builderid: linux.builderid,
      buildrequestid: brid,
      workerid: null,
      masterid: first.masterid,
    });
    // Simulate a crash: close the database without the clean stop.
    await first.distributor?.stop();
    await first.db.close();

    const second = await startMaster({ basedir: dir.path, name: 'crashy' });
    assert.equal(second.masterid, first.masterid);
    assert.equal(second.recovered?.interruptedBuilds.length, 1);
    assert.deepEqual(second.recovered?.releasedRequests, [brid]);
    await second.stop();
    // After that clean stop, the next start has nothing to recover.
    const third = await startMaster({ basedir: dir.path, name: 'crashy' });
    assert.equal(third.recovered, null);
    await third.stop();

    writeFileSync(configFile, 'export default { workers: 5 };\n');
    await assert.rejects(startMaster({ basedir: dir.path }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.issues[0]?.path, 'workers');
      return true;
    });
  });

  it('starts the next build when a slot frees up, and does not spin on a failing starter', async () => {
    writeFileSync(
      configFile,
      configText({
        workers: `{ name: 'w1', password: 'a', maxBuilds: 1 }`,
        builders: `{ name: 'slots', workerNames: ['w1'], factory: buildFactory(compile), collapseRequests: false }`,
      }),
    );
    let calls = 0;
    let fail = false;
    const started: Assignment[] = [];
    const errors: string[] = [];
    const master = await startMaster({
      basedir: dir.path,
      name: 'slots',
      onError: (err) => errors.push((err as Error).message),
      buildStarter: {
        startBuild: async (a) => {
          calls++;
          if (fail) throw new Error('cannot start');
          started.push(a);
        },
      },
    });
    const w1 = master.workers.get('w1')!;
    await w1.attach({ disconnect: async () => {} }, {});
    const linux = master.builders.get('slots')!.builderid;
    const ss = await master.data.sourcestamps.findOrCreate({ repository: 'r', revision: 'slots' });
    for (let i = 0; i < 3; i++) {
      await master.data.buildsets.add({ sourcestampids: [ss], builderids: [linux], reason: `r${i}` });
    }
    // Waits are for the first outcome, well within the 10 s housekeeping poll (which would
    // start builds too); the settles after them leave room for a wrong extra start.
    const settle = () => new Promise((r) => setTimeout(r, 50));
    await waitFor(() => started.length > 0, 5_000, 'the first build to start');
    await settle();
    assert.equal(started.length, 1, 'maxBuilds 1');
    // The runner frees the slot; no bus event needed for the next build to start.
    w1.release();
    await waitFor(() => started.length > 1, 5_000, 'the next build to start');
    await settle();
    assert.equal(started.length, 2);

    fail = true;
    const before = calls;
    w1.release();
    await waitFor(() => calls > before, 5_000, 'the failing start');
    await settle();
    await settle();
    assert.ok(calls - before >= 1 && calls - before <= 2, `starter called ${calls - before} times`);
    assert.equal(await master.data.buildrequests.countPending(linux), 1);
    assert.deepEqual([...new Set(errors)], ['cannot start']);
    await master.stop();
  });

  it('applies logs.retentionDays by itself: old log content goes, build records and recent logs stay', async () => {
    const retention = tempDir('lathe-retention-');
    try {
      writeFileSync(
        join(retention.path, 'master.config.ts'),
        configText({
          workers: `{ name: 'w1', password: 'a' }`,
          builders: `{ name: 'linux', workerNames: ['w1'], factory: buildFactory(compile) }`,
          extra: 'logs: { retentionDays: 30 },',
        }),
      );
      let clock = 1_800_000_000;
      const master = await startMaster({
        basedir: retention.path,
        name: 'retention-master',
        now: () => clock,
        housekeepingIntervalMs: 50,
      });
      try {
        const { data } = master;
        const builderid = master.builders.get('linux')!.builderid;
        /** A build with one finished step whose stdio log holds `text`, recorded at `clock`. */
        const buildWithLog = async (text: string) => {
          const ssid = await data.sourcestamps.findOrCreate({
            repository: 'r',
            branch: 'main',
            revision: text,
          });
          const bs = await data.buildsets.add({
            sourcestampids: [ssid],
            builderids: [builderid],
            reason: 'test',
          });
          const { buildid } = await data.builds.add({
            builderid,
            buildrequestid: bs.buildrequestids.get(builderid)!,
            workerid: null,
            masterid: master.masterid,
          });
          const { stepid } = await data.steps.add(buildid, 'compile');
          await data.steps.start(stepid);
          const logid = await data.logs.add(stepid, 'stdio', 's');
          await data.logs.append(logid, `o${text}\n`);
          await data.logs.finish(logid);
          await data.steps.finish(stepid, 0);
          await data.builds.finish(buildid, 0);
          return { buildid, stepid, logid };
        };
        const old = await buildWithLog('old output');
        // A pass now: nothing is old enough yet.
        await master.housekeeping();
        assert.equal(await data.logs.chunkCount(old.logid), 1);

        clock += 31 * 86_400;
        const recent = await buildWithLog('recent output');
        // The running master's own housekeeping timer applies retention.
        await waitFor(async () => (await data.logs.chunkCount(old.logid)) === 0, 10_000, 'retention');
        assert.equal((await data.logs.get(old.logid))?.type, 'd', 'the log is marked deleted');
        const build = await data.builds.get(old.buildid);
        assert.equal(build?.results, 0, 'the build record stays');
        assert.equal((await data.steps.get(old.stepid))?.results, 0, 'and its step');
        assert.deepEqual(await data.logs.lines(recent.logid, 0, 0), ['orecent output']);
      } finally {
        await master.stop();
      }
    } finally {
      retention.cleanup();
    }
  });
});
