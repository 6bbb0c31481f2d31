// Schedulers, force schedulers and change sources as data API resources, with two real
// masters sharing one SQLite file under `cluster` leases and a real git repository: what
// each resource says, and the events when a periodic scheduler's next run moves, a poll
// fails and recovers, a change arrives, and the leases move to the other master; and a
// nightly scheduler's next run on a single master, under a clock moved by hand.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DataApi, type Resource } from '../src/api/data-api.js';
import { bridgeBusToQueue } from '../src/api/mq/bridge.js';
import { InProcessQueue } from '../src/api/mq/in-process.js';
import type { MqMessage } from '../src/api/mq/queue.js';
import { EventBus } from '../src/bus/bus.js';
import { DataLayer } from '../src/data/index.js';
import { openAndMigrate } from '../src/db/connection.js';
import { Master } from '../src/master.js';
import { waitFor } from './bbworker.js';
import { tempDir } from './helpers.js';
import { ManualClock } from './manual-clock.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

describe('schedulers and change sources in the data API (two real masters, real git)', () => {
  const tmp = tempDir('lathe-api-schedulers-');
  const repo = join(tmp.path, 'repo');
  const errors: string[] = [];
  const masters: Master[] = [];
  let a: Master;
  let b: Master;

  function configText(): string {
    return `import { buildFactory, defineConfig, forceScheduler, gitPoller, periodicScheduler } from '${lathe}';
const step = { name: 'compile', async run() { return 0 as const; } };
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'app', workerNames: ['w1'], factory: buildFactory(step) }],
  schedulers: [
    periodicScheduler({ name: 'every-second', builderNames: ['app'], periodicBuildTimer: 1 }),
    forceScheduler({
      name: 'release', builderNames: ['app'], reasonRequired: true,
      parameters: [{ name: 'jobs', type: 'int', label: 'Jobs', default: 4, min: 1 }],
    }),
  ],
  changeSources: [gitPoller({ name: 'poller', repourl: ${JSON.stringify(repo)}, pollInterval: 0.3 })],
  db: { url: ${JSON.stringify(`sqlite:${join(tmp.path, 'shared.sqlite')}`)} },
  cluster: { leaseSeconds: 3, heartbeatSeconds: 1, pollMs: 50 },
});
`;
  }

  async function startMaster(name: string): Promise<Master> {
    const basedir = join(tmp.path, name);
    mkdirSync(basedir);
    writeFileSync(join(basedir, 'master.config.ts'), configText());
    const m = await Master.start({ basedir, name, onError: (err, ctx) => errors.push(`${ctx}: ${err}`) });
    masters.push(m);
    return m;
  }

  /** The data API of a master, and every event its message queue publishes. */
  function watch(m: Master): { api: DataApi; events: MqMessage[] } {
    const api = new DataApi(m.data);
    const queue = new InProcessQueue();
    bridgeBusToQueue(m.bus, api, queue);
    const events: MqMessage[] = [];
    void queue.subscribe(['schedulers.#', 'forceschedulers.#', 'changesources.#'], (e) => events.push(e));
    return { api, events };
  }
  const published = (events: MqMessage[], type: string, name: string): Resource[] =>
    events.flatMap((e) =>
      e.type === 'event' && e.resourceType === type && e.resource.name === name
        ? [e.resource as Resource]
        : [],
    );
  const list = async (api: DataApi, path: string) => {
    const body = await api.get(path);
    return Object.values(body).find(Array.isArray) as Resource[];
  };
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repo, ...args], {
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@x',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@x',
      },
    });

  let watchA: ReturnType<typeof watch>;
  let watchB: ReturnType<typeof watch>;

  before(async () => {
    a = await startMaster('a');
    watchA = watch(a);
    b = await startMaster('b');
    watchB = watch(b);
  });

  after(async () => {
    for (const m of masters) await m.stop().catch(() => {});
    tmp.cleanup();
  });

  it('lists the configured schedulers with who runs them, and the force form the web UI reads', async () => {
    const { api } = watchA;
    const all = await list(api, '/schedulers');
    assert.deepEqual(
      all.map((s) => [s.name, s.kind, s.builder_names, s.enabled, s.masterid]),
      [
        ['every-second', 'Periodic', ['app'], true, a.masterid],
        // Called schedulers run on every master under `cluster`.
        ['release', 'ForceScheduler', ['app'], true, null],
      ],
    );
    assert.deepEqual(
      (await list(api, `/masters/${a.masterid}/schedulers`)).map((s) => s.name),
      ['every-second'],
    );
    assert.deepEqual(await list(api, `/masters/${b.masterid}/schedulers`), []);
    assert.deepEqual(await list(api, '/forceschedulers'), [
      {
        forceschedulerid: all[1]!.schedulerid,
        name: 'release',
        builder_names: ['app'],
        reason_required: true,
        any_properties: false,
        parameters: [{ name: 'jobs', type: 'int', label: 'Jobs', required: false, default: 4, min: 1 }],
      },
    ]);
    assert.equal((await list(api, '/schedulers/release'))[0]!.schedulerid, all[1]!.schedulerid);
  });

  it('publishes the periodic scheduler each time its next run moves on', async () => {
    const { events, api } = watchA;
    await waitFor(
      () => new Set(published(events, 'schedulers', 'every-second').map((s) => s.next_run_at)).size >= 2,
      20_000,
      'two different next runs published',
    );
    const runs = published(events, 'schedulers', 'every-second');
    const last = runs.at(-1)!;
    assert.deepEqual(Object.keys(last), Object.keys(api.type('schedulers').fields), 'the full resource');
    assert.ok(
      runs.some((s) => s.last_run_at !== null),
      'a run was recorded',
    );
    assert.equal(last.masterid, a.masterid);
    assert.deepEqual(published(events, 'forceschedulers', 'every-second'), [], 'not a force scheduler');
  });

  it('records a failing poll, its recovery and a change, with events', async () => {
    const { api, events } = watchA;
    await waitFor(
      () => published(events, 'changesources', 'poller').some((c) => c.last_error !== null),
      20_000,
      'a failed poll published',
    );
    const [failed] = await list(api, '/changesources');
    assert.equal(failed!.kind, 'git');
    assert.equal(failed!.masterid, a.masterid);
    assert.match(String(failed!.last_error), /git .*failed/);
    assert.equal(typeof failed!.last_error_at, 'number');

    mkdirSync(repo);
    git('init', '-q', '-b', 'master');
    writeFileSync(join(repo, 'a.txt'), 'one\n');
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    await waitFor(
      () => published(events, 'changesources', 'poller').at(-1)?.last_error === null,
      20_000,
      'a successful poll clears the error',
    );
    writeFileSync(join(repo, 'a.txt'), 'two\n');
    git('commit', '-q', '-am', 'second');
    await waitFor(
      () => published(events, 'changesources', 'poller').some((c) => c.last_change_at !== null),
      20_000,
      'the change published',
    );
    const [now] = await list(api, `/changesources/${failed!.changesourceid}`);
    assert.equal(now!.last_error, null);
    assert.ok((now!.last_poll_at as number) >= (failed!.last_error_at as number));
  });

  it('moves to the other master when the first stops, and says so', async () => {
    const { api, events } = watchB;
    await a.stop();
    await waitFor(
      () =>
        published(events, 'schedulers', 'every-second').at(-1)?.masterid === b.masterid &&
        published(events, 'changesources', 'poller').at(-1)?.masterid === b.masterid,
      20_000,
      'the scheduler and the poller published as run by b',
    );
    const [periodic] = await list(api, '/schedulers/every-second');
    assert.deepEqual([periodic!.enabled, periodic!.masterid], [true, b.masterid]);
    assert.deepEqual(
      (await list(api, `/masters/${b.masterid}/changesources`)).map((c) => c.name),
      ['poller'],
    );
    await b.stop();
    // Read after both stopped, as any process on the file would.
    const db = await openAndMigrate({ url: `sqlite:${join(tmp.path, 'shared.sqlite')}` });
    const stopped = await list(new DataApi(new DataLayer(db, new EventBus())), '/schedulers').finally(() =>
      db.close(),
    );
    assert.deepEqual(
      stopped.map((s) => [s.name, s.enabled, s.masterid, s.next_run_at]),
      [
        ['every-second', false, null, null],
        ['release', true, null, null],
      ],
      'no master runs the periodic scheduler any more',
    );
    assert.deepEqual(
      errors.filter((e) => !e.includes('poll failed') && !e.startsWith('changes')),
      [],
    );
  });
});

describe('a nightly scheduler of a single master in the data API (manual clock)', () => {
  const tmp = tempDir('lathe-api-nightly-');
  const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
  let master: Master;

  before(async () => {
    writeFileSync(
      join(tmp.path, 'master.config.ts'),
      `import { buildFactory, defineConfig, nightlyScheduler } from '${lathe}';
const step = { name: 'compile', async run() { return 0 as const; } };
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'app', workerNames: ['w1'], factory: buildFactory(step) }],
  schedulers: [nightlyScheduler({ name: 'nightly', builderNames: ['app'], cron: '0 3 * * *', timezone: 'UTC' })],
});
`,
    );
    master = await Master.start({ basedir: tmp.path, name: 'single', clock });
  });

  after(async () => {
    await master?.stop();
    tmp.cleanup();
  });

  it('publishes the next run as it moves, and the one master runs every scheduler', async () => {
    const api = new DataApi(master.data);
    const queue = new InProcessQueue();
    bridgeBusToQueue(master.bus, api, queue);
    const events: Resource[] = [];
    await queue.subscribe(
      ['schedulers.*.update'],
      (e) => e.type === 'event' && events.push(e.resource as Resource),
    );
    const at = (iso: string) => Date.parse(iso) / 1000;
    const read = async () => (await api.get('/schedulers')).schedulers as Resource[];
    assert.deepEqual(
      (await read()).map((s) => [s.name, s.masterid, s.next_run_at, s.last_run_at]),
      [
        ['nightly', master.masterid, at('2026-01-01T03:00:00Z'), null],
        // The implicit force scheduler of a config without one.
        ['force', master.masterid, null, null],
      ],
    );
    clock.advanceTo(new Date('2026-01-01T04:00:00Z'));
    await waitFor(
      () => events.some((s) => s.next_run_at === at('2026-01-02T03:00:00Z')),
      10_000,
      'the next night published',
    );
    const moved = events.find((s) => s.next_run_at === at('2026-01-02T03:00:00Z'))!;
    assert.equal(moved.last_run_at, at('2026-01-01T03:00:00Z'));
    assert.equal(moved.name, 'nightly');
  });
});
