// Periodic and nightly schedulers, and the tree-stable timer's persistence, on a real
// database under a clock the test moves by hand: runs at the right times (a cron pattern
// read in a time zone), onlyIfChanged with and without relevant changes, state that
// survives the scheduler being stopped and started again (as a master restart does)
// without a run skipped or repeated, and scheduler reconfigs that apply whole or not at all.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { PBUserRegistry } from '../src/changes/pb-users.js';
import { ConfigError } from '../src/config/errors.js';
import { loadConfig } from '../src/config/loader.js';
import { ChangeScheduler } from '../src/schedulers/change-scheduler.js';
import type { ResolvedSchedulerConfig } from '../src/schedulers/config.js';
import type { AnySchedulerConfig } from '../src/schedulers/create.js';
import { createScheduler, type SchedulerService } from '../src/schedulers/create.js';
import { SchedulerReconfigError, SchedulerSet } from '../src/schedulers/scheduler-set.js';
import type { ResolvedNightlyConfig, ResolvedPeriodicConfig } from '../src/schedulers/timed-config.js';
import type { TrySchedulerContext } from '../src/schedulers/try/job.js';
import { waitFor } from './bbworker.js';
import { NO_MASTER, openData, startMaster, type TestData, tempDir } from './helpers.js';
import { ManualClock } from './manual-clock.js';

const HOUR = 3600_000;
const sec = (d: Date | number) => Math.floor((typeof d === 'number' ? d : d.getTime()) / 1000);

const common = {
  builderNames: ['b1'],
  onlyIfChanged: false,
  filter: {},
  fileIsImportant: null,
  onlyImportant: false,
  properties: { nightly: true },
  priority: 0,
};

function periodic(over: Partial<ResolvedPeriodicConfig> = {}): ResolvedPeriodicConfig {
  return {
    kind: 'Periodic',
    name: 'every-hour',
    reason: 'periodic',
    periodicBuildTimer: 3600,
    ...common,
    ...over,
  };
}

function nightly(over: Partial<ResolvedNightlyConfig> = {}): ResolvedNightlyConfig {
  return {
    kind: 'Nightly',
    name: 'nightly',
    reason: 'nightly',
    cron: '30 2 * * *',
    timezone: 'America/New_York',
    ...common,
    ...over,
  };
}

interface Buildset {
  readonly id: number;
  readonly submittedAt: number;
  readonly revisions: (string | null)[];
  readonly reason: string | null;
}

describe('timed schedulers under a controllable clock', () => {
  const dir = tempDir('lathe-timed-');
  let n = 0;
  after(() => dir.cleanup());

  /** A database with builder b1; schedulers made by `make` share it, like successive masters. */
  async function setUp(start: Date) {
    const clock = new ManualClock(start);
    const t: TestData = await openData(join(dir.path, `t${n++}.sqlite`), () => sec(clock.now()));
    const builderid = await t.data.builders.findOrCreate('b1');
    const ctx: TrySchedulerContext = {
      data: t.data,
      bus: t.bus,
      builderid: (name) => (name === 'b1' ? builderid : undefined),
      builderProject: () => '',
      cancelRequest: async () => {},
      log: { info: () => {}, warn: () => {} },
      clock,
      basedir: dir.path,
      pbUsers: new PBUserRegistry(),
    };
    const running = new Set<SchedulerService>();
    const make = async (config: AnySchedulerConfig) => {
      const s = createScheduler(config, ctx);
      await s.start(NO_MASTER);
      running.add(s);
      return s;
    };
    const stop = async (s: SchedulerService) => {
      await s.stop();
      running.delete(s);
    };
    const buildsets = async (): Promise<Buildset[]> => {
      const rows = await t.db.kysely.selectFrom('buildsets').select(['id']).orderBy('id').execute();
      const out: Buildset[] = [];
      for (const { id } of rows) {
        const bs = (await t.data.buildsets.get(id))!;
        const revisions = [];
        for (const ssid of bs.sourcestampids) revisions.push((await t.data.sourcestamps.get(ssid))!.revision);
        out.push({ id, submittedAt: bs.submittedAt, revisions, reason: bs.reason });
      }
      return out;
    };
    const change = async (spec: { branch: string; revision: string; files?: string[] }) => {
      const id = await t.data.changes.add({ author: 'a', ...spec });
      await t.bus.idle();
      return id;
    };
    /** Moves the clock to the scheduler's next run and waits until that run is done. */
    const runNext = async (s: SchedulerService) => {
      const next = s.status!().nextRunAt;
      assert.notEqual(next, null, 'a run is due');
      clock.advanceTo(next! * 1000);
      await waitFor(() => s.status!().lastRunAt === next, 5000, `the run at ${next}`);
      await t.bus.idle();
    };
    return {
      clock,
      t,
      make,
      stop,
      buildsets,
      change,
      runNext,
      async close() {
        for (const s of running) await s.stop();
        await t.bus.idle();
        await t.close();
      },
    };
  }

  it('periodic: first run at once, then every period; a restart neither repeats nor skips a run', async () => {
    const start = new Date('2026-03-01T10:00:00Z');
    const env = await setUp(start);
    try {
      let s = await env.make(periodic());
      assert.equal(s.status!().nextRunAt, sec(start), 'the first run is due at once');
      await env.runNext(s);
      assert.equal((await env.buildsets()).length, 1);
      assert.equal(s.status!().nextRunAt, sec(start) + 3600);
      env.clock.advance(HOUR - 1000);
      await env.t.bus.idle();
      assert.equal((await env.buildsets()).length, 1, 'not before the period is over');
      await env.runNext(s);
      const [first, second] = await env.buildsets();
      assert.deepEqual(
        [first!.submittedAt, second!.submittedAt, second!.reason, second!.revisions],
        [sec(start), sec(start) + 3600, 'periodic', [null]],
      );

      // A restart within the period: the next run stays where it was.
      await env.stop(s);
      env.clock.advance(10 * 60_000);
      s = await env.make(periodic());
      assert.equal(s.status!().nextRunAt, sec(start) + 7200);
      assert.equal(s.status!().lastRunAt, sec(start) + 3600);
      await env.t.bus.idle();
      assert.equal((await env.buildsets()).length, 2, 'no run on start-up');

      // Down for three periods: one catch-up run at start, then a period from it.
      await env.stop(s);
      env.clock.advance(3 * HOUR);
      const back = env.clock.now();
      s = await env.make(periodic());
      assert.equal(s.status!().nextRunAt, sec(back));
      await env.runNext(s);
      assert.equal((await env.buildsets()).length, 3);
      assert.equal(s.status!().nextRunAt, sec(back) + 3600);
    } finally {
      await env.close();
    }
  });

  it('nightly: the cron pattern is read in its time zone, across a daylight-saving change', async () => {
    // 02:30 in New York is 07:30 UTC in winter (EST) and 06:30 UTC in summer (EDT).
    const env = await setUp(new Date('2026-03-06T12:00:00Z'));
    try {
      const s = await env.make(nightly());
      const runs: number[] = [];
      for (let i = 0; i < 4; i++) {
        runs.push(s.status!().nextRunAt!);
        await env.runNext(s);
      }
      // On 2026-03-08 New York's clocks jump from 02:00 to 03:00: 02:30 does not exist that
      // day, and the run happens at the jump (03:00 EDT).
      assert.deepEqual(
        runs.map((r) => new Date(r * 1000).toISOString()),
        [
          '2026-03-07T07:30:00.000Z',
          '2026-03-08T07:00:00.000Z',
          '2026-03-09T06:30:00.000Z',
          '2026-03-10T06:30:00.000Z',
        ],
      );
      const sets = await env.buildsets();
      assert.deepEqual(
        sets.map((b) => b.submittedAt),
        runs,
      );
      const props = await env.t.data.buildsets.properties(sets[0]!.id);
      assert.deepEqual(props.scheduler, ['nightly', 'Scheduler']);
      assert.deepEqual(props.nightly, [true, 'Scheduler']);
    } finally {
      await env.close();
    }
  });

  it('nightly onlyIfChanged: no build without relevant important changes; with them, a build of them, also across a restart', async () => {
    const env = await setUp(new Date('2026-06-01T12:00:00Z'));
    const config = nightly({
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      onlyIfChanged: true,
      filter: { branch: 'main' },
      fileIsImportant: (c) => c.files.some((f) => !f.endsWith('.md')),
    });
    try {
      let s = await env.make(config);
      // 03:00 in Berlin in summer is 01:00 UTC.
      assert.equal(new Date(s.status!().nextRunAt! * 1000).toISOString(), '2026-06-02T01:00:00.000Z');
      await env.runNext(s);
      assert.equal((await env.buildsets()).length, 0, 'no changes: no build');

      await env.change({ branch: 'other', revision: 'o1', files: ['src/a.c'] });
      await env.change({ branch: 'main', revision: 'd1', files: ['README.md'] });
      await env.runNext(s);
      assert.equal(
        (await env.buildsets()).length,
        0,
        'only a filtered-out and an unimportant change: no build',
      );

      await env.change({ branch: 'main', revision: 'm1', files: ['src/main.c'] });
      const docs = await env.change({ branch: 'main', revision: 'd2', files: ['doc.md'] });
      // The master restarts before the night: the changes seen are remembered.
      await env.stop(s);
      s = await env.make(config);
      await env.runNext(s);
      const sets = await env.buildsets();
      assert.equal(sets.length, 1);
      assert.equal(sets[0]!.submittedAt, sec(new Date('2026-06-04T01:00:00Z')));
      assert.deepEqual(sets[0]!.revisions, ['d2'], 'the newest change since the last run is built');
      const ss = (await env.t.data.buildsets.get(sets[0]!.id))!.sourcestampids[0];
      assert.equal((await env.t.data.changes.get(docs))!.sourcestampid, ss);

      // The changes were used up: the next night builds nothing.
      await env.runNext(s);
      assert.equal((await env.buildsets()).length, 1);
    } finally {
      await env.close();
    }
  });

  it('without onlyIfChanged, a nightly builds every night, changes or not', async () => {
    const env = await setUp(new Date('2026-06-01T12:00:00Z'));
    try {
      const s = await env.make(nightly({ cron: '0 3 * * *', timezone: 'UTC' }));
      await env.runNext(s);
      await env.runNext(s);
      assert.deepEqual(
        (await env.buildsets()).map((b) => new Date(b.submittedAt * 1000).toISOString()),
        ['2026-06-02T03:00:00.000Z', '2026-06-03T03:00:00.000Z'],
      );
    } finally {
      await env.close();
    }
  });

  it('a tree-stable timer survives a restart: same changes, same deadline, or at once when it has passed; one buildset', async () => {
    const start = new Date('2026-06-01T12:00:00Z');
    const env = await setUp(start);
    const config: ResolvedSchedulerConfig = {
      kind: 'SingleBranchScheduler',
      name: 'stable',
      builderNames: ['b1'],
      filter: { branch: 'main' },
      treeStableTimer: 60,
      fileIsImportant: (c) => !c.files.every((f) => f.endsWith('.md')),
      onlyImportant: true,
      properties: {},
      reason: 'stable',
      priority: 0,
      cancelOldBuilds: false,
    };
    try {
      let s = await env.make(config);
      assert.ok(s instanceof ChangeScheduler);
      await env.change({ branch: 'main', revision: 'r1', files: ['a.c'] });
      env.clock.advance(10_000);
      await env.change({ branch: 'main', revision: 'r2', files: ['b.c'] });
      env.clock.advance(10_000);
      await env.change({ branch: 'main', revision: 'docs', files: ['x.md'] });
      const deadline = sec(start) + 20 + 60;
      assert.equal(s.status!().nextRunAt, deadline);

      // Restart before the deadline: the timer fires at the deadline, not a full timer later.
      await env.stop(s);
      env.clock.advance(30_000);
      s = await env.make(config);
      assert.equal(s.status!().nextRunAt, deadline);
      env.clock.advanceTo(deadline * 1000 - 1);
      await env.t.bus.idle();
      assert.equal((await env.buildsets()).length, 0);
      env.clock.advanceTo(deadline * 1000);
      await waitFor(async () => (await env.buildsets()).length > 0, 5000, 'the buildset');
      const [bs] = await env.buildsets();
      // onlyImportant: the unimportant docs change stays out; the newest important one is built.
      assert.deepEqual(bs!.revisions, ['r2']);

      // Restart again: nothing is left to fire.
      await env.stop(s);
      s = await env.make(config);
      assert.equal(s.status!().nextRunAt, null);

      // A timer whose deadline passes while the master is down fires at once on start.
      await env.change({ branch: 'main', revision: 'r3', files: ['c.c'] });
      await env.stop(s);
      env.clock.advance(HOUR);
      s = await env.make(config);
      assert.equal(s.status!().nextRunAt, sec(env.clock.now()) - 3600 + 60);
      env.clock.advance(0);
      await waitFor(async () => (await env.buildsets()).length === 2, 5000, 'the overdue buildset');
      assert.deepEqual((await env.buildsets())[1]!.revisions, ['r3']);
      await env.stop(s);
      s = await env.make(config);
      await env.t.bus.idle();
      assert.equal((await env.buildsets()).length, 2, 'no duplicate after another restart');
    } finally {
      await env.close();
    }
  });

  it('a scheduler reconfig applies whole or not at all; unchanged schedulers keep their timers', async () => {
    const env = await setUp(new Date('2026-06-01T12:00:00Z'));
    const created: SchedulerService[] = [];
    const ctxOf = (): TrySchedulerContext => ({
      data: env.t.data,
      bus: env.t.bus,
      builderid: () => 1,
      builderProject: () => '',
      cancelRequest: async () => {},
      log: { info: () => {}, warn: () => {} },
      clock: env.clock,
      basedir: dir.path,
      pbUsers: new PBUserRegistry(),
    });
    const set = new SchedulerSet(
      (config) => {
        if (config.name === 'broken') {
          // A user's scheduler that cannot start (say, its ticket system is down).
          return {
            name: config.name,
            config,
            start: async () => {
              throw new Error('ticket system unreachable');
            },
            stop: async () => {},
            reconfigure: async () => {},
          };
        }
        const s = createScheduler(config, ctxOf());
        created.push(s);
        return s;
      },
      (name) => env.t.data.schedulerState.delete(name),
    );
    try {
      await set.start(NO_MASTER);
      const keep = nightly({ name: 'keep' });
      const swap = periodic({ name: 'swap', periodicBuildTimer: 600 });
      await set.apply({ added: [keep, swap], changed: [], removed: [], unchanged: [] });
      const kept = set.get('keep')!;
      const keptNext = kept.status!().nextRunAt;
      assert.equal(env.clock.pending, 2);

      // Remove 'swap', add a nightly and the broken one: nothing of it applies.
      const added = nightly({ name: 'added', cron: '0 * * * *' });
      const broken = nightly({ name: 'broken' });
      await assert.rejects(
        set.apply({ added: [added, broken], changed: [], removed: [swap], unchanged: ['keep'] }),
        (err: Error) =>
          err instanceof SchedulerReconfigError &&
          err.scheduler === 'broken' &&
          /ticket system unreachable; the schedulers were left as they were/.test(err.message),
      );
      assert.deepEqual([...set.values()].map((s) => s.name).sort(), ['keep', 'swap']);
      assert.equal(set.get('keep'), kept, 'the unchanged scheduler is the same one');
      assert.equal(kept.status!().nextRunAt, keptNext);
      assert.equal(set.get('swap')!.status!().nextRunAt, sec(env.clock.now()), 'swap runs again');
      assert.equal(created.find((s) => s.name === 'added')!.status!().nextRunAt, null, 'added was stopped');
      assert.equal(env.clock.pending, 2, 'only the old schedulers have timers');

      // Without the broken one the same swap applies; 'keep' is not touched.
      const result = await set.apply({ added: [added], changed: [], removed: [swap], unchanged: ['keep'] });
      assert.deepEqual(result, { added: ['added'], reconfigured: [], replaced: [], removed: ['swap'] });
      assert.deepEqual([...set.values()].map((s) => s.name).sort(), ['added', 'keep']);
      assert.equal(set.get('keep'), kept);
      assert.equal(kept.status!().nextRunAt, keptNext);
      assert.equal(env.clock.pending, 2);

      // A changed timing reconfigures in place; a changed kind replaces.
      const moved = nightly({ name: 'keep', cron: '0 4 * * *', timezone: 'UTC' });
      const periodicNow = periodic({ name: 'added' });
      const r2 = await set.apply({
        added: [],
        changed: [
          { name: 'keep', old: keep, new: moved },
          { name: 'added', old: added, new: periodicNow },
        ],
        removed: [],
        unchanged: [],
      });
      assert.deepEqual([r2.reconfigured, r2.replaced], [['keep'], ['added']]);
      assert.equal(set.get('keep'), kept);
      assert.equal(new Date(kept.status!().nextRunAt! * 1000).toISOString(), '2026-06-02T04:00:00.000Z');
      assert.equal(set.get('added')!.status!().kind, 'Periodic');
    } finally {
      await set.stop();
      await env.close();
    }
  });
});

describe('timed scheduler config', () => {
  const dir = tempDir('lathe-timed-config-');
  after(() => dir.cleanup());
  const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
  const configFile = join(dir.path, 'master.config.ts');
  const config = (
    schedulers: string,
  ) => `import { buildFactory, defineConfig, nightlyScheduler, periodicScheduler } from '${lathe}';
const step = { name: 'compile', async run() { return 0 as const; } };
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'b1', workerNames: ['w1'], factory: buildFactory(step) }],
  schedulers: [
${schedulers}
  ],
});
`;

  it('resolves periodic and nightly entries', async () => {
    writeFileSync(
      configFile,
      config(`    periodicScheduler({ name: 'p', periodicBuildTimer: 600, builderNames: ['b1'] }),
    nightlyScheduler({ name: 'n', cron: '0 3 * * 1-5', timezone: 'Europe/Berlin', onlyIfChanged: true, changeFilter: { branch: 'main' }, builderNames: ['b1'] }),`),
    );
    const { config: resolved } = await loadConfig(configFile);
    const [p, n] = resolved.schedulers;
    assert.deepEqual(
      {
        kind: p?.kind,
        timer: p?.kind === 'Periodic' && p.periodicBuildTimer,
        reason: p && 'reason' in p ? p.reason : undefined,
      },
      { kind: 'Periodic', timer: 600, reason: 'The Periodic scheduler named "p" triggered this build' },
    );
    assert.ok(n?.kind === 'Nightly');
    assert.deepEqual(
      [n.cron, n.timezone, n.onlyIfChanged, n.filter],
      ['0 3 * * 1-5', 'Europe/Berlin', true, { branch: 'main' }],
    );
  });

  it('refuses a bad timer, cron pattern, time zone or field with the line that defined it', async () => {
    writeFileSync(
      configFile,
      config(`    periodicScheduler({ name: 'p0', periodicBuildTimer: 0, builderNames: ['b1'] }),
    nightlyScheduler({ name: 'n1', cron: '61 3 * * *', builderNames: ['b1'] }),
    nightlyScheduler({ name: 'n2', cron: '0 3 * * *', timezone: 'Mars/Olympus_Mons', builderNames: ['b1'] }),
    nightlyScheduler({ name: 'n3', cron: '0 3 * * *', builderNames: ['b1'], treeStableTimer: 5, onlyIfChanged: 'yes' } as never),`),
    );
    const err = await loadConfig(configFile).then(
      () => assert.fail('loaded'),
      (e: unknown) => e as ConfigError,
    );
    assert.ok(err instanceof ConfigError, String(err));
    const found = err.issues.map((i) => `${i.path} @${i.location?.line}: ${i.message}`);
    assert.equal(found.length, 5, found.join('\n'));
    assert.equal(found[0], 'schedulers["p0"].periodicBuildTimer @7: must be a positive number of seconds');
    assert.match(found[1]!, /^schedulers\["n1"\]\.cron @8: .*minute/);
    assert.match(found[2]!, /^schedulers\["n2"\]\.timezone @9: .*Mars\/Olympus_Mons/);
    assert.equal(found[3], 'schedulers["n3"].treeStableTimer @10: unknown field');
    assert.equal(found[4], 'schedulers["n3"].onlyIfChanged @10: must be true or false');
  });
});

describe('a master reconfig whose new scheduler cannot start', () => {
  const dir = tempDir('lathe-timed-reconfig-');
  after(() => dir.cleanup());
  const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
  const write = (schedulers: string) =>
    writeFileSync(
      join(dir.path, 'master.config.ts'),
      `import { buildFactory, defineConfig, nightlyScheduler, periodicScheduler } from '${lathe}';
const step = { name: 'compile', async run() { return 0 as const; } };
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'b1', workerNames: ['w1'], factory: buildFactory(step) }],
  schedulers: [${schedulers}],
});
`,
    );
  const keep = `nightlyScheduler({ name: 'keep', cron: '0 3 * * *', builderNames: ['b1'] })`;
  const added = `periodicScheduler({ name: 'added', periodicBuildTimer: 3600, builderNames: ['b1'] })`;

  it('keeps the old schedulers and config, and applies the same change once it can', async () => {
    write(`${keep}, nightlyScheduler({ name: 'gone', cron: '0 4 * * *', builderNames: ['b1'] })`);
    const master = await startMaster({ basedir: dir.path, name: 'timed-reconfig', onError: () => {} });
    try {
      const kept = master.schedulers.get('keep')!;
      // What 'added' would resume from is damaged: it refuses to start.
      await master.db.kysely
        .insertInto('scheduler_state')
        .values({ scheduler: 'added', key: 'lastRun', value_json: '{oops' })
        .execute();
      write(`${keep}, ${added}`);
      const failed = await master.reconfig();
      assert.equal(failed.ok, false);
      assert.match(
        !failed.ok ? failed.error.message : '',
        /^scheduler added failed to start: the stored state "lastRun" of scheduler added is not JSON: .*; the schedulers were left as they were$/,
      );
      assert.deepEqual([...master.schedulers.values()].map((s) => s.name).sort(), ['force', 'gone', 'keep']);
      assert.equal(master.schedulers.get('keep'), kept);
      assert.notEqual(master.schedulers.get('gone')!.status!().nextRunAt, null, 'gone runs again');
      assert.deepEqual(
        master.config.schedulers.map((s) => s.name),
        ['keep', 'gone', 'force'],
      );

      await master.db.kysely.deleteFrom('scheduler_state').where('scheduler', '=', 'added').execute();
      const applied = await master.reconfig();
      assert.ok(applied.ok, !applied.ok ? applied.error.message : '');
      assert.deepEqual(
        { added: applied.schedulers.added, removed: applied.schedulers.removed },
        { added: ['added'], removed: ['gone'] },
      );
      assert.equal(master.schedulers.get('keep'), kept);
    } finally {
      await master.stop();
    }
  });
});
