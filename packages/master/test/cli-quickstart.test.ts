// `lathe quickstart` as a newcomer runs it. The first suite runs the real local worker
// (@lathe/worker's CLI) and a real first build; the second uses a stand-in CLI (via
// LATHE_WORKER_CLI) that records how quickstart drives it and never connects, to check
// the worker's arguments, the reuse of an existing master and worker, and the path where
// no worker shows up.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { alive, lathe, MAIN } from './cli-helpers.js';
import { tempDir } from './helpers.js';

/** A port nothing listens on right now, so a master with a worker port would not clash. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

function quickstart(args: string[], cwd: string, env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'quickstart', ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** No worker connected, so the build could not start: quickstart gives up after --timeout. */
function expectUnbuilt(r: { code: number | null; stdout: string; stderr: string }): void {
  // The daemon always attaches a build runner, so this is a wait for a worker, not a refusal.
  assert.doesNotMatch(r.stdout, /no build runner attached/);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /gave up waiting after 1s; build request \d+ stays queued on the master/);
}

/** The real @lathe/worker CLI, built next to this package by `tsc -b`. */
const WORKER_CLI = join(import.meta.dirname, '..', '..', '..', 'worker', 'dist', 'src', 'cli.js');

function pidIn(file: string): number {
  return existsSync(file) ? Number(readFileSync(file, 'utf8')) : 0;
}

describe('lathe quickstart with the real worker', () => {
  const tmp = tempDir('lathe-quickstart-real-');
  const masterDir = join(tmp.path, 'qs');
  const workerDir = join(masterDir, 'worker');
  after(async () => {
    // Read the pids first: a clean stop removes the pid files.
    const pids = [pidIn(join(masterDir, 'lathe.pid')), pidIn(join(workerDir, 'worker.pid'))];
    if (existsSync(join(masterDir, 'lathe.pid'))) await lathe(['stop', masterDir], { cwd: tmp.path });
    if (existsSync(join(workerDir, 'worker.pid')))
      spawnSync(process.execPath, [WORKER_CLI, 'stop', workerDir], { stdio: 'ignore', timeout: 30_000 });
    // Whatever did not stop must not outlive the test run (or keep the worker port).
    for (const pid of pids) if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    tmp.cleanup();
  });

  it('runs the first build of the sample project to SUCCESS', { timeout: 180_000 }, async () => {
    assert.ok(existsSync(WORKER_CLI), `${WORKER_CLI} is built`);
    // A free port, not the default 9989: another test (or a developer's master) may hold it.
    const port = await freePort();
    const wwwPort = await freePort();
    const r = await quickstart(
      ['qs', '--worker-port', String(port), '--www-port', String(wwwPort), '--timeout', '120'],
      tmp.path,
      { LATHE_WORKER_CLI: WORKER_CLI },
    );
    const out = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.code, 0, out);
    assert.match(r.stdout, /^created a master in qs /m, out);
    assert.match(r.stdout, /^master started in .*qs \(pid \d+/m, out);
    assert.match(
      r.stdout,
      new RegExp(
        `^created a local worker "local-worker" in qs/worker, connecting to 127\\.0\\.0\\.1:${port}$`,
        'm',
      ),
      out,
    );
    // Quickstart starts the worker itself: no advice to start it by hand.
    assert.doesNotMatch(r.stdout, /run: lathe-worker start/, out);
    assert.match(r.stdout, /^lathe-worker started \(pid \d+\) and connected to the master$/m, out);
    assert.doesNotMatch(r.stdout, /has not connected to the master yet/, out);
    assert.match(r.stdout, /^build #1 started$/m, out);
    // Every step of the sample builder ran, in order, and succeeded.
    const steps = [...r.stdout.matchAll(/^ {2}step "([^"]+)": (\S+)$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(
      steps,
      [
        ['fetch', 'SUCCESS'],
        ['node version', 'SUCCESS'],
        ['test', 'SUCCESS'],
      ],
      out,
    );
    assert.match(r.stdout, /^build #1 finished: SUCCESS\nresult: SUCCESS$/m, out);

    // `lathe start` serves the data API on the port quickstart wrote into the config, and
    // quickstart says where; the build is there, finished.
    const api = `http://127.0.0.1:${wwwPort}/api/v2/`;
    assert.match(r.stdout, new RegExp(`^The data API: ${api.replaceAll('.', '\\.')} `, 'm'), out);
    const builds = (await (await fetch(`${api}builds?field=number&field=results&field=complete`)).json()) as {
      builds: unknown[];
    };
    assert.deepEqual(builds.builds, [{ number: 1, complete: true, results: 0 }]);

    // Both keep running afterwards, as the closing lines promise.
    assert.ok(alive(pidIn(join(masterDir, 'lathe.pid'))), 'the master keeps running');
    assert.ok(alive(pidIn(join(workerDir, 'worker.pid'))), 'the worker keeps running');
  });
});

describe('lathe quickstart with a stand-in worker', () => {
  const tmp = tempDir('lathe-quickstart-');
  const masterPidFile = join(tmp.path, 'qs', 'lathe.pid');
  after(() => {
    const pid = existsSync(masterPidFile) ? Number(readFileSync(masterPidFile, 'utf8')) : 0;
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    tmp.cleanup();
  });

  it('stops with a clear message, starting nothing, when the worker CLI is missing', async () => {
    const r = await quickstart(['qs'], tmp.path, { LATHE_WORKER_CLI: join(tmp.path, 'no-such-cli.js') });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the local worker needs the lathe-worker command of @lathe\/worker/);
    assert.match(r.stderr, /nothing was started/);
    assert.ok(!existsSync(join(tmp.path, 'qs')));
  });

  it('creates and starts the master, creates and starts the worker, forces the sample build', async () => {
    const calls = join(tmp.path, 'worker-calls.txt');
    const cli = join(tmp.path, 'fake-worker-cli.mjs');
    writeFileSync(
      cli,
      `import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
const args = process.argv.slice(2);
appendFileSync(${JSON.stringify(calls)}, JSON.stringify(args) + '\\n');
const [cmd, ...rest] = args.filter((a) => a !== '--');
if (cmd === 'create') { mkdirSync(rest[0], { recursive: true }); writeFileSync(rest[0] + '/worker.json', '{}'); }
`,
    );
    const port = await freePort();
    const wwwPort = await freePort();
    const r = await quickstart(
      ['qs', '--timeout', '1', '--worker-port', String(port), '--www-port', String(wwwPort)],
      tmp.path,
      { LATHE_WORKER_CLI: cli },
    );
    // The stand-in never connects, so no build can start: quickstart says so and stops
    // waiting after --timeout. Everything up to the build is real.
    assert.match(r.stdout, /note: the worker "local-worker" has not connected to the master yet/);
    expectUnbuilt(r);
    assert.match(r.stdout, /^created a master in qs \(configuration: qs\/master\.config\.ts\)$/m);
    assert.match(r.stdout, /^master started in .*qs \(pid \d+/m);
    assert.match(
      r.stdout,
      /^forcing a build of "sample":\nbuildset 1 submitted: build request 1 for "sample" is pending$/m,
    );
    assert.match(r.stdout, /stop both: +lathe stop qs && node .*fake-worker-cli\.mjs stop qs\/worker/);
    const pending = (await (
      await fetch(`http://127.0.0.1:${wwwPort}/api/v2/buildrequests?field=buildrequestid&field=claimed`)
    ).json()) as { buildrequests: unknown[] };
    assert.deepEqual(
      pending.buildrequests,
      [{ buildrequestid: 1, claimed: false }],
      'the data API is served',
    );

    const config = readFileSync(join(tmp.path, 'qs', 'master.config.ts'), 'utf8');
    const password = /password: '([^']+)'/.exec(config)![1];
    const recorded = readFileSync(calls, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
    assert.deepEqual(recorded, [
      ['create', '--', join(tmp.path, 'qs', 'worker'), `127.0.0.1:${port}`, 'local-worker', password],
      ['start', join(tmp.path, 'qs', 'worker')],
    ]);
    const pid = Number(readFileSync(masterPidFile, 'utf8'));
    assert.ok(alive(pid), 'the master keeps running');

    // Run again: reuses the master and the worker directory.
    const again = await quickstart(['qs', '--timeout', '1'], tmp.path, { LATHE_WORKER_CLI: cli });
    expectUnbuilt(again);
    assert.match(again.stdout, /^using the master in qs$/m);
    assert.match(again.stdout, new RegExp(`^the master is already running \\(pid ${pid}\\)$`, 'm'));
    assert.match(again.stdout, /^buildset 2 submitted/m);
    assert.equal(
      readFileSync(calls, 'utf8').trim().split('\n').length,
      3,
      'only start again, no second create',
    );
  });
});
