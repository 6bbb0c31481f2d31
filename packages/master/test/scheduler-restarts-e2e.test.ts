// Schedulers of a master started with the real `lathe` command, with a real Lathe worker
// and changes sent by `lathe sendchange`: `lathe status` shows a nightly scheduler's next
// run (in Tokyo's time zone); a reconfig that swaps a scheduler while one of its builds runs
// leaves the build running to success and the new scheduler in charge; and a master killed
// (kill -9) in the middle of a tree-stable timer and started again fires that timer at its
// original deadline, with the same changes, exactly once.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MasterStatus } from '../src/control/protocol.js';
import { SUCCESS } from '../src/results.js';
import { createWorker, type TestWorker, waitFor, workerAvailable } from './bbworker.js';
import { alive, lathe } from './cli-helpers.js';
import { openData, type TestData, tempDir } from './helpers.js';
import { useTestDatabase } from './test-database.js';

const STABLE_SECONDS = 30;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

function configText(port: number, swapped: boolean): string {
  // 'slow' holds until the test writes `go` into its build directory.
  const slowScheduler = swapped
    ? `singleBranchScheduler({ name: 'on-release', branch: 'release', builderNames: ['app'] })`
    : `singleBranchScheduler({ name: 'on-slow', branch: 'slow', builderNames: ['slow'] })`;
  return `import { buildFactory, defineConfig, interpolate, nightlyScheduler, pbChangeSource, shellCommand, singleBranchScheduler } from '@lathe/master';
export default defineConfig({
  workerPort: ${port},
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [
    { name: 'app', workerNames: ['w1'], factory: buildFactory(shellCommand({ command: interpolate('echo building %(prop:revision)s') })) },
    { name: 'slow', workerNames: ['w1'], factory: buildFactory(shellCommand({ name: 'hold', command: 'while [ ! -f go ]; do sleep 0.05; done' })) },
  ],
  changeSources: [pbChangeSource({ user: 'change', passwd: 'changepw' })],
  schedulers: [
    singleBranchScheduler({
      name: 'stable',
      branch: 'main',
      treeStableTimer: ${STABLE_SECONDS},
      fileIsImportant: (change) => !change.files.every((f) => f.endsWith('.md')),
      builderNames: ['app'],
    }),
    nightlyScheduler({ name: 'nightly', cron: '0 ${NIGHTLY_TOKYO_HOUR} * * *', timezone: 'Asia/Tokyo', builderNames: ['app'] }),
    ${slowScheduler},
  ],
  db: { url: 'sqlite:state.sqlite' },
});
`;
}

// The nightly runs about half a day from now, whenever the test runs: at the full hour
// 12 hours ahead in UTC, written as Tokyo's hour (UTC+9, no summer time there).
const NIGHTLY_UTC_HOUR = (new Date().getUTCHours() + 12) % 24;
const NIGHTLY_TOKYO_HOUR = (NIGHTLY_UTC_HOUR + 9) % 24;

/** The next NIGHTLY_UTC_HOUR:00 UTC, epoch seconds. */
function nextNightlyRun(nowMs: number): number {
  const d = new Date(nowMs);
  let at = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), NIGHTLY_UTC_HOUR);
  if (at <= nowMs) at += 86_400_000;
  return at / 1000;
}

describe('schedulers of a master run by lathe', { skip: !workerAvailable('lathe') }, () => {
  const tmp = tempDir('lathe-schedulers-e2e-');
  const dir = join(tmp.path, 'master');
  const workerDir = join(tmp.path, 'worker');
  let port = 0;
  let worker: TestWorker | undefined;
  const pids = new Set<number>();
  let db: TestData | undefined;

  const pid = () => Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'));

  async function start(): Promise<void> {
    const started = await lathe(['start', dir], { timeoutMs: 120_000 });
    assert.equal(started.code, 0, `${started.stdout}\n${started.stderr}`);
    pids.add(pid());
  }

  async function status(): Promise<MasterStatus> {
    const r = await lathe(['status', dir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as MasterStatus;
  }

  async function sendchange(branch: string, revision: string, files: string[]): Promise<void> {
    const r = await lathe([
      'sendchange',
      '--master',
      `127.0.0.1:${port}`,
      '--who',
      'dev',
      '--branch',
      branch,
      '--revision',
      revision,
      ...files,
    ]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  }

  /** Buildsets a scheduler added, oldest first. */
  async function buildsetsOf(scheduler: string): Promise<number[]> {
    const rows = await db!.db.kysely
      .selectFrom('buildset_properties')
      .select('buildsetid')
      .where('property_name', '=', 'scheduler')
      .where('property_value', '=', JSON.stringify([scheduler, 'Scheduler']))
      .orderBy('buildsetid')
      .execute();
    return rows.map((r) => r.buildsetid);
  }

  async function revisionsOf(buildsetid: number): Promise<(string | null)[]> {
    const bs = await db!.data.buildsets.get(buildsetid);
    const out = [];
    for (const ssid of bs!.sourcestampids) out.push((await db!.data.sourcestamps.get(ssid))!.revision);
    return out;
  }

  const connected = async () => (await status()).workers.some((w) => w.connected);

  before(async () => {
    port = await freePort();
    const created = await lathe(['create-master', dir, '--worker-port', String(port)]);
    assert.equal(created.code, 0, created.stderr);
    writeFileSync(join(dir, 'master.config.ts'), configText(port, false));
    await useTestDatabase(dir);
    await start();
    worker = createWorker('lathe', workerDir, 'w1', 'pw-1', port);
    worker.start();
    await waitFor(connected, 60_000, 'the worker');
    db = await openData(join(dir, 'state.sqlite'));
  });

  after(async () => {
    await worker?.kill();
    if (existsSync(join(dir, 'lathe.pid'))) pids.add(pid());
    for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
    await db?.close();
    tmp.cleanup();
  });

  it('lathe status lists the schedulers with their kind and the nightly’s next run', async () => {
    const st = await status();
    const nightly = st.schedulers.find((s) => s.name === 'nightly');
    assert.deepEqual(nightly, {
      name: 'nightly',
      kind: 'Nightly',
      builderNames: ['app'],
      nextRunAt: nextNightlyRun(Date.now()),
      lastRunAt: null,
    });
    const text = (await lathe(['status', dir])).stdout;
    // Three configured, and the implicit force scheduler every config without one gets.
    assert.match(text, /^schedulers \(4\):$/m);
    assert.match(
      text,
      /^ {2}nightly +Nightly +next run \d{4}-\d\d-\d\d \d\d:\d\d:00 \(in \d+h\d\dm\) {2}builders: app$/m,
    );
    assert.match(text, /^ {2}stable +SingleBranchScheduler +no run due {2}builders: app$/m);
  });

  it('a reconfig swapping a scheduler while its build runs: the build finishes, the new scheduler takes over', async () => {
    await sendchange('slow', 's1', ['slow.c']);
    let buildid = 0;
    await waitFor(
      async () => {
        buildid = (await status()).builds.find((b) => b.builder === 'slow')?.buildid ?? 0;
        return buildid !== 0;
      },
      30_000,
      'the slow build to run',
    );
    const nightlyBefore = (await status()).schedulers.find((s) => s.name === 'nightly');

    writeFileSync(join(dir, 'master.config.ts'), configText(port, true));
    await useTestDatabase(dir);
    const r = await lathe(['reconfig', dir], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const st = await status();
    assert.deepEqual(st.schedulers.map((s) => s.name).sort(), ['force', 'nightly', 'on-release', 'stable']);
    assert.deepEqual(
      st.schedulers.find((s) => s.name === 'nightly'),
      nightlyBefore,
      'the unchanged nightly keeps its timer',
    );
    assert.ok(
      st.builds.some((b) => b.buildid === buildid),
      'the build of the removed scheduler still runs',
    );

    writeFileSync(join(workerDir, 'slow', 'build', 'go'), '');
    await waitFor(
      async () => (await db!.data.builds.get(buildid))?.completeAt != null,
      30_000,
      'the slow build to finish',
    );
    assert.equal((await db!.data.builds.get(buildid))?.results, SUCCESS);

    await sendchange('slow', 's2', ['slow.c']);
    await sendchange('release', 'v1', ['release.c']);
    await waitFor(async () => (await buildsetsOf('on-release')).length === 1, 30_000, 'the release buildset');
    assert.deepEqual(await buildsetsOf('on-slow'), [(await buildsetsOf('on-slow'))[0]], 'no buildset for s2');
    assert.deepEqual(await revisionsOf((await buildsetsOf('on-release'))[0]!), ['v1']);
  });

  it('kill -9 in the middle of a tree-stable timer: after lathe start it fires at its deadline with the same changes, once', async () => {
    await sendchange('main', 'r1', ['src/a.c']);
    await sendchange('main', 'r2', ['README.md']); // unimportant: restarts the running timer
    const stored = (await db!.data.schedulerState.get('stable', 'treeStable:')) as {
      deadline: number;
      changes: [number, boolean][];
    };
    assert.deepEqual(
      stored.changes.map(([, important]) => important),
      [true, false],
    );
    const deadline = Math.floor(stored.deadline / 1000);
    // Well into the timer: a timer started afresh on restart would fire clearly later.
    await new Promise((r) => setTimeout(r, 8000));
    const first = pid();
    process.kill(first, 'SIGKILL');
    await waitFor(() => !alive(first), 10_000, 'the master to die');
    assert.deepEqual(await buildsetsOf('stable'), [], 'nothing fired before the kill');

    const startedAt = Date.now() / 1000;
    await start();
    const restarted = (await status()).schedulers.find((s) => s.name === 'stable');
    // Still waiting (unless the restart outlasted the timer): for the original deadline.
    if (restarted?.nextRunAt !== null) assert.equal(restarted?.nextRunAt, deadline);

    await waitFor(async () => (await buildsetsOf('stable')).length > 0, 90_000, 'the tree-stable buildset');
    const [bs] = await buildsetsOf('stable');
    assert.deepEqual(await revisionsOf(bs!), ['r2'], 'the newest change of the timer is built');
    const submitted = (await db!.data.buildsets.get(bs!))!.submittedAt;
    assert.ok(submitted >= deadline, `fired at ${submitted}, not before the deadline ${deadline}`);
    // A timer started afresh by the new master could not fire before this.
    assert.ok(
      submitted < startedAt + STABLE_SECONDS - 1,
      `fired at ${submitted}: the deadline ${deadline} was not kept (restart began at ${startedAt})`,
    );
    await waitFor(connected, 60_000, 'the worker to reconnect');
    await waitFor(
      async () => (await db!.data.buildsets.get(bs!))?.complete === true,
      60_000,
      'the buildset to be built',
    );
    assert.equal((await db!.data.buildsets.get(bs!))?.results, SUCCESS);

    // Another restart: the timer is gone with its buildset, nothing fires again.
    const stopped = await lathe(['stop', dir], { timeoutMs: 120_000 });
    assert.equal(stopped.code, 0, stopped.stderr);
    await start();
    assert.equal((await status()).schedulers.find((s) => s.name === 'stable')?.nextRunAt, null);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await buildsetsOf('stable')).length, 1);
  });
});
