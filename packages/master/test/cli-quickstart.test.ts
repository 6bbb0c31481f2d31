// `lathe quickstart` as a newcomer runs it. The local worker comes from @lathe/worker's
// CLI; here a stand-in CLI (via LATHE_WORKER_CLI) records how quickstart drives it, since
// a real worker needs the master's worker port, which is not part of this package yet.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { alive, MAIN } from './cli-helpers.js';
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

/** The build could not run: how quickstart ends depends on whether a runner is attached. */
function expectUnbuilt(r: { code: number | null; stdout: string; stderr: string }): void {
  if (r.stdout.includes('no build runner attached')) {
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /not waiting for a build this master cannot run/);
  } else {
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /gave up waiting after 1s; build request \d+ stays queued on the master/);
  }
}

describe('lathe quickstart', () => {
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
const [cmd, dir, ...rest] = process.argv.slice(2);
appendFileSync(${JSON.stringify(calls)}, JSON.stringify([cmd, dir, ...rest]) + '\\n');
if (cmd === 'create') { mkdirSync(dir, { recursive: true }); writeFileSync(dir + '/worker.json', '{}'); }
`,
    );
    const port = await freePort();
    const r = await quickstart(['qs', '--timeout', '1', '--worker-port', String(port)], tmp.path, {
      LATHE_WORKER_CLI: cli,
    });
    // No worker really connects here, so no build can run: quickstart says so and stops
    // waiting — at once if this master has no build runner at all (before the worker-port
    // branch is merged), else after --timeout. Everything up to the build is real.
    assert.match(r.stdout, /note: the worker "local-worker" has not connected to the master yet/);
    expectUnbuilt(r);
    assert.match(r.stdout, /^created a master in qs \(configuration: qs\/master\.config\.ts\)$/m);
    assert.match(r.stdout, /^master started in .*qs \(pid \d+/m);
    assert.match(
      r.stdout,
      /^forcing a build of "sample":\nbuildset 1 submitted: build request 1 for "sample" is pending$/m,
    );
    assert.match(r.stdout, /stop both: +lathe stop qs && node .*fake-worker-cli\.mjs stop qs\/worker/);

    const config = readFileSync(join(tmp.path, 'qs', 'master.config.ts'), 'utf8');
    const password = /password: '([^']+)'/.exec(config)![1];
    const recorded = readFileSync(calls, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
    assert.deepEqual(recorded, [
      ['create', join(tmp.path, 'qs', 'worker'), `127.0.0.1:${port}`, 'local-worker', password],
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
