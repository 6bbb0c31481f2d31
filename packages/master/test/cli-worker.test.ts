// A master started with the real `lathe` command and a real Lathe worker, driven only
// through `lathe`: the ETA of a running build in `lathe status`; pausing, unpausing and
// gracefully shutting down the worker with `lathe worker`; what `force --prop --reason`
// gives the build; `stop --cancel` cancelling a running build and killing its process.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MasterStatus } from '../src/control/protocol.js';
import { CANCELLED, SUCCESS } from '../src/results.js';
import { createWorker, type TestWorker, waitFor, workerAvailable } from './bbworker.js';
import { alive, lathe } from './cli-helpers.js';
import { openData, type TestData, tempDir } from './helpers.js';
import { useTestDatabase } from './test-database.js';

/** A port nothing listens on right now: the master's worker port must be known up front. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

// A compile step that warns, then a TAP test step with one failing test that exits 1.
const WARN = 'echo "util.c:3:5: warning: unused variable x"';
const TAP =
  "printf 'ok 1 - parses\\nnot ok 2 - adds numbers\\n1..2\\n'; echo 'expected 4, got 5' >&2; exit 1";

function configText(port: number): string {
  return `import { buildFactory, compile, defineConfig, interpolate, shellCommand, test } from '@lathe/master';
export default defineConfig({
  workerPort: ${port},
  buildbotURL: 'https://ci.example.org/',
  // w2 never connects.
  workers: [{ name: 'w1', password: 'pw-1' }, { name: 'w2', password: 'pw-2' }],
  builders: [
    {
      name: 'timed',
      workerNames: ['w1'],
      factory: buildFactory(
        // With --prop hold=1 the first step waits for a file the test writes (go-<build number>,
        // so the test may write it before the command has even started).
        shellCommand({ name: 'hold', command: interpolate('[ -z "%(prop:hold:-)s" ] || while [ ! -f go-%(prop:buildnumber)s ]; do sleep 0.05; done') }),
        shellCommand({ name: 'nap', command: 'sleep 2' }),
      ),
    },
    {
      name: 'long',
      workerNames: ['w1'],
      factory: buildFactory(shellCommand({ name: 'forever', command: 'echo $$ > pid; exec sleep 300' })),
    },
    {
      name: 'failing',
      workerNames: ['w1'],
      factory: buildFactory(
        compile({ name: 'compile', command: ${JSON.stringify(WARN)} }),
        test({ name: 'unit tests', format: 'tap', command: ${JSON.stringify(TAP)} }),
      ),
    },
    { name: 'offline', workerNames: ['w2'], factory: buildFactory(shellCommand({ name: 'never', command: 'true' })) },
  ],
  db: { url: 'sqlite:state.sqlite' },
});
`;
}

describe('lathe with a running master and a real worker', { skip: !workerAvailable('lathe') }, () => {
  const tmp = tempDir('lathe-cli-worker-');
  const dir = join(tmp.path, 'master');
  const workerDir = join(tmp.path, 'worker');
  const release = (build: number) => writeFileSync(join(workerDir, 'timed', 'build', `go-${build}`), '');
  let worker: TestWorker | undefined;
  let pid = 0;
  let db: TestData | undefined;

  before(async () => {
    const port = await freePort();
    const created = await lathe(['create-master', dir, '--worker-port', String(port)]);
    assert.equal(created.code, 0, created.stderr);
    writeFileSync(join(dir, 'master.config.ts'), configText(port));
    await useTestDatabase(dir);
    const started = await lathe(['start', dir], { timeoutMs: 120_000 });
    assert.equal(started.code, 0, `${started.stdout}\n${started.stderr}`);
    pid = Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'));
    worker = createWorker('lathe', workerDir, 'w1', 'pw-1', port);
    worker.start();
    await waitFor(async () => (await status()).workers.some((w) => w.connected), 60_000, 'the worker');
    db = await openData(join(dir, 'state.sqlite'));
  });

  after(async () => {
    await worker?.kill();
    const current = existsSync(join(dir, 'lathe.pid'))
      ? Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'))
      : 0;
    for (const p of new Set([pid, current])) if (p && alive(p)) process.kill(p, 'SIGKILL');
    await db?.close();
    tmp.cleanup();
  });

  async function status(): Promise<MasterStatus> {
    const r = await lathe(['status', dir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as MasterStatus;
  }

  it('status shows the ETA of a running build learned from the builder’s history', async () => {
    const first = await lathe(['force', 'timed', '--dir', dir, '--timeout', '60']);
    assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
    const held = await lathe([
      'force',
      'timed',
      '--dir',
      dir,
      '--no-wait',
      '--prop',
      'hold=1',
      '--reason',
      'checking the ETA',
    ]);
    assert.equal(held.code, 0, held.stderr);
    const buildsetid = Number(/^buildset (\d+) submitted/m.exec(held.stdout)?.[1]);

    let text = '';
    await waitFor(
      async () => {
        text = (await lathe(['status', dir])).stdout;
        return /ETA/.test(text);
      },
      30_000,
      'an ETA in lathe status',
    );
    // One build of history: hold (already overrunning its usual instant) and a 2 s nap to go.
    assert.match(
      text,
      /^ {2}timed #2 \(build id \d+\) on w1, \d+s, step "[^"]+": [^\n]*, ETA \d\d:\d\d:\d\d \(in \d+s\)$/m,
    );
    const st = await status();
    const [running] = st.builds;
    assert.ok(running && running.eta !== null, JSON.stringify(st.builds));
    const now = Date.now() / 1000;
    assert.ok(running.eta > now - 1 && running.eta < now + 30, `ETA ${running.eta} vs now ${now}`);
    assert.ok(running.progress !== null && running.progress >= 0 && running.progress <= 1);
    // The property and reason given to force reached the build.
    assert.equal((await db!.data.builds.properties(running.buildid)).hold?.[0], '1');
    assert.equal((await db!.data.buildsets.get(buildsetid))?.reason, 'checking the ETA');

    release(running.number);
    await waitFor(async () => (await status()).builds.length === 0, 30_000, 'the held build to finish');
  });

  const w1 = async () => (await status()).workers.find((w) => w.name === 'w1')!;

  async function latestBuild() {
    const builderid = await db!.data.builders.findOrCreate('timed');
    return (await db!.data.builds.latestForBuilder(builderid, 1))[0];
  }

  it('force of a failing build shows the failing step’s output, failed tests, warnings and the build’s URL', async () => {
    const r = await lathe(['force', 'failing', '--dir', dir, '--timeout', '60']);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    const builderid = await db!.data.builders.findOrCreate('failing');
    const [build] = await db!.data.builds.latestForBuilder(builderid, 1);
    assert.ok(build);
    const report = r.stdout.slice(r.stdout.indexOf(`build #${build.number} finished: FAILURE`));
    assert.equal(
      report,
      [
        `build #${build.number} finished: FAILURE`,
        '  step "compile": compile warnings',
        '    warnings:',
        '      util.c:3:5: warning: unused variable x',
        '  step "unit tests": unit tests failure',
        '    failed tests:',
        '      adds numbers',
        '    last 4 line(s) of output:',
        '      ok 1 - parses',
        '      not ok 2 - adds numbers',
        '      1..2',
        '      expected 4, got 5',
        `  build #${build.number} of failing: https://ci.example.org/#/builders/${builderid}/builds/${build.number}`,
        'result: FAILURE',
        '',
      ].join('\n'),
    );
  });

  it('force says when no worker of the builder is connected; cancel-request cancels the waiting request', async () => {
    const forced = await lathe(['force', 'offline', '--dir', dir, '--no-wait']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^note: no worker of builder "offline" is connected; the request waits$/m);
    const id = Number(/build request (\d+) for "offline" is pending/.exec(forced.stdout)?.[1]);
    assert.ok((await status()).pending.some((p) => p.buildrequestid === id));

    const cancelled = await lathe(['cancel-request', String(id), '--dir', dir, '--reason', 'not needed']);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(cancelled.stdout.trim(), `build request ${id} for offline cancelled: not needed`);
    const request = await db!.data.buildrequests.get(id);
    assert.deepEqual([request?.complete, request?.results], [true, CANCELLED]);
    assert.ok(!(await status()).pending.some((p) => p.buildrequestid === id));
    const logged = readFileSync(join(dir, 'lathe.log'), 'utf8');
    assert.match(logged, new RegExp(`control: cancelled build request ${id} for offline: not needed`));

    const again = await lathe(['cancel-request', String(id), '--dir', dir]);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      new RegExp(
        `^lathe cancel-request: the master refused: build request ${id} is already complete \\(cancelled\\)$`,
        'm',
      ),
    );
    const usage = await lathe(['cancel-request', 'x1', '--dir', dir]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /the build request id must be a positive integer, got "x1"/);
  });

  it('stop-build stops one running build with its reason; status shows the step it runs', async () => {
    const forced = await lathe(['force', 'long', '--dir', dir, '--no-wait']);
    assert.equal(forced.code, 0, forced.stderr);
    await waitFor(
      async () => (await status()).builds.some((b) => b.builder === 'long' && b.currentStep === 'forever'),
      30_000,
      'the long build’s step',
    );
    const [running] = (await status()).builds;
    assert.ok(running);
    assert.match(
      (await lathe(['status', dir])).stdout,
      new RegExp(
        `^ {2}long #${running.number} \\(build id ${running.buildid}\\) on w1, \\d+s, step "forever": `,
        'm',
      ),
    );

    const stopped = await lathe([
      'stop-build',
      'long',
      String(running.number),
      '--dir',
      dir,
      '-r',
      'wrong branch',
    ]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(
      stopped.stdout.trim(),
      `stopping build #${running.number} of long (build id ${running.buildid}): wrong branch`,
    );
    await waitFor(async () => (await status()).builds.length === 0, 30_000, 'the build to stop');
    const build = await db!.data.builds.get(running.buildid);
    assert.deepEqual([build?.results, build?.stateString], [CANCELLED, 'cancelled: wrong branch']);

    const again = await lathe(['stop-build', '--id', String(running.buildid), '--dir', dir]);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      new RegExp(`build #${running.number} of long has already finished \\(cancelled\\)`),
    );
    const unknown = await lathe(['stop-build', 'long', '999', '--dir', dir]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /the master refused: there is no build #999 of long/);
  });

  it('cancel-request of a request whose build runs stops that build', async () => {
    const forced = await lathe(['force', 'long', '--dir', dir, '--no-wait']);
    const id = Number(/build request (\d+) for "long"/.exec(forced.stdout)?.[1]);
    await waitFor(async () => (await status()).builds.some((b) => b.builder === 'long'), 30_000, 'the build');
    const [running] = (await status()).builds;
    const r = await lathe(['cancel-request', String(id), '--dir', dir, '--reason', 'superseded']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      `build request ${id} for long was building: stopping build #${running!.number}: superseded`,
    );
    await waitFor(async () => (await status()).builds.length === 0, 30_000, 'the build to stop');
    const build = await db!.data.builds.get(running!.buildid);
    assert.deepEqual([build?.results, build?.stateString], [CANCELLED, 'cancelled: superseded']);
    assert.equal((await db!.data.buildrequests.get(id))?.results, CANCELLED);
  });

  it('worker pause keeps new builds off the worker until unpause', async () => {
    const paused = await lathe(['worker', 'pause', 'w1', '--dir', dir]);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(paused.stdout.trim(), 'worker w1 paused: it takes no new builds');
    assert.equal((await w1()).state, 'paused');
    assert.match((await lathe(['status', dir])).stdout, /^ {2}w1 +paused +0\/∞ builds/m);
    const again = await lathe(['worker', 'pause', 'w1', '--dir', dir]);
    assert.equal(again.stdout.trim(), 'worker w1 was already paused');

    const before = (await latestBuild())!.number;
    const forced = await lathe(['force', 'timed', '--dir', dir, '--no-wait']);
    assert.equal(forced.code, 0, forced.stderr);
    // The distributor looks at the request at once; give it time to (wrongly) start a build.
    await new Promise((r) => setTimeout(r, 1500));
    let st = await status();
    assert.equal(st.pending.length, 1, JSON.stringify(st));
    assert.equal(st.builds.length, 0);

    const unpaused = await lathe(['worker', 'unpause', 'w1', '--dir', dir]);
    assert.equal(unpaused.code, 0, unpaused.stderr);
    assert.equal(unpaused.stdout.trim(), 'worker w1 unpaused: it takes builds again');
    await waitFor(
      async () => {
        st = await status();
        return st.pending.length === 0 && st.builds.length === 0;
      },
      30_000,
      'the queued build to run',
    );
    const built = await latestBuild();
    assert.equal(built?.number, before + 1);
    assert.equal(built?.results, SUCCESS);
  });

  it('worker refuses clearly an unknown worker and one that is not connected', async () => {
    const unknown = await lathe(['worker', 'pause', 'nope', '--dir', dir]);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /^lathe worker: the master refused: no worker named "nope" \(workers: w1, w2\)$/m,
    );
    for (const action of ['pause', 'unpause', 'shutdown']) {
      const away = await lathe(['worker', action, 'w2', '--dir', dir]);
      assert.equal(away.code, 1, action);
      assert.match(away.stderr, /the master refused: worker "w2" is not connected/, action);
    }
  });

  it('worker shutdown lets the running build finish, starts no new one, then the worker exits', async () => {
    const held = await lathe(['force', 'timed', '--dir', dir, '--no-wait', '--prop', 'hold=1']);
    assert.equal(held.code, 0, held.stderr);
    await waitFor(async () => (await status()).builds.length === 1, 30_000, 'the held build to start');
    const heldBuild = (await status()).builds[0]!;

    const r = await lathe(['worker', 'shutdown', 'w1', '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      'worker w1 will shut down once its 1 running build(s) finish; it takes no new builds',
    );
    const state = await w1();
    assert.deepEqual([state.connected, state.state], [true, 'shutting down']);
    const next = await lathe(['force', 'timed', '--dir', dir, '--no-wait']);
    assert.equal(next.code, 0, next.stderr);

    release(heldBuild.number);
    await waitFor(() => !worker!.running, 30_000, 'the worker process to exit');
    const st = await status();
    assert.equal(st.workers.find((w) => w.name === 'w1')?.state, 'disconnected');
    assert.equal(st.builds.length, 0);
    assert.equal(st.pending.length, 1, 'the request forced during the shutdown waits for a worker');
    const finished = await db!.data.builds.get(heldBuild.buildid);
    assert.equal(finished?.results, SUCCESS, 'the running build finished normally');
  });

  it('stop --cancel cancels the running build, kills its process on the worker, and the master exits', async () => {
    // The worker shut down above; the same one comes back.
    worker!.start();
    await waitFor(async () => (await w1()).connected, 60_000, 'the worker to reconnect');
    // Earlier builds of `long` left their pid here: only this build's may be read.
    const pidFile = join(workerDir, 'long', 'build', 'pid');
    rmSync(pidFile, { force: true });
    const forced = await lathe(['force', 'long', '--dir', dir, '--no-wait']);
    assert.equal(forced.code, 0, forced.stderr);
    await waitFor(
      () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '',
      30_000,
      'the command',
    );
    const commandPid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(alive(commandPid));
    const [running] = (await status()).builds.filter((b) => b.builder === 'long');
    assert.ok(running);

    const stopped = await lathe(['stop', dir, '--cancel', '--timeout', '60'], { timeoutMs: 90_000 });
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /cancelling running builds[\s\S]*master stopped/);
    assert.ok(!alive(pid));
    const build = await db!.data.builds.get(running.buildid);
    assert.equal(build?.results, CANCELLED);
    const [step] = await db!.data.steps.forBuild(running.buildid);
    assert.equal(step?.results, CANCELLED);
    await waitFor(() => !alive(commandPid), 10_000, 'the remote process to die');
  });
});
