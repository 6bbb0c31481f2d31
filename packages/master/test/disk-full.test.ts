// A full disk under the master directory: a build whose log fills a small tmpfs holding the
// master's database. The master reports the cause ("disk full", with the database's path),
// keeps serving, and once space is freed records the stuck build as finished and releases
// its request; the next build then succeeds. Mounting needs root: CI runs as root and
// scripts/test-deps.mjs refuses to run the suite in CI otherwise; elsewhere this skips.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isDiskFull } from '../src/db/errors.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { EXCEPTION, SUCCESS } from '../src/results.js';
import { createWorker, waitFor, workerAvailable } from './bbworker.js';
import { alive, type CliResult, lathe } from './cli-helpers.js';
import { openData, tempDir } from './helpers.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';

const latheUrl = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const isRoot = process.getuid?.() === 0;

const config = (
  from: string,
  port: number,
) => `import { buildFactory, defineConfig, shellCommand } from '${from}';
export default defineConfig({
  workerPort: ${port},
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [
    {
      name: 'flood',
      workerNames: ['w1'],
      // Random text does not compress: 12 MB of log cannot fit in a 2 MB disk.
      factory: buildFactory(shellCommand({ name: 'flood', command: 'head -c 9000000 /dev/urandom | base64' })),
    },
    { name: 'small', workerNames: ['w1'], factory: buildFactory(shellCommand({ name: 'hello', command: ['echo', 'hello'] })) },
  ],
});
`;

/** Mounts a 2 MB tmpfs at `dir` with 512 KB of it taken by a file the test frees later. */
function mountSmallDisk(dir: string): { reserve: string; unmount(): void } {
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
  const reserve = join(dir, 'reserve');
  writeFileSync(reserve, Buffer.alloc(512 * 1024, 1));
  return { reserve, unmount: () => execFileSync('umount', ['-l', dir]) };
}

/** Takes every byte still free on the disk of `dir`; returns the file to delete. */
function fillUp(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  for (let size = chunk.length; size >= 1; ) {
    try {
      writeSync(fd, chunk, 0, size);
    } catch {
      size = Math.floor(size / 2);
    }
  }
  closeSync(fd);
  return file;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('a full disk under the master', {
  skip: !isRoot || !workerAvailable('lathe'),
  timeout: 300_000,
}, () => {
  const tmp = tempDir('lathe-disk-full-');
  const fs = join(tmp.path, 'fs');
  const masterDir = join(fs, 'master');
  const errors: unknown[] = [];
  let disk: ReturnType<typeof mountSmallDisk>;
  let mw: MasterAndWorker;

  before(async () => {
    disk = mountSmallDisk(fs);
    mw = await startMasterAndWorker({
      kind: 'lathe',
      masterDir,
      workerDir: join(tmp.path, 'worker'),
      configText: config(latheUrl, 0),
      name: 'disk-full',
      onError: (err) => errors.push(err),
      quiet: true,
    });
  });

  after(async () => {
    await mw?.stop().catch(() => {});
    disk?.unmount();
    tmp.cleanup();
  });

  it('reports the cause, records the build once space is freed, releases its request and builds again', async () => {
    const { master } = mw;
    const { buildrequestid } = await forceBuild(master, { builder: 'flood' });
    await waitFor(() => errors.some(isDiskFull), 120_000, 'the master to report a full disk');
    const report = errors.find(isDiskFull) as Error;
    assert.match(report.message, /^disk full: cannot write the database .*state\.sqlite \(SQLITE_FULL\)/);
    assert.ok(
      !errors.some((e) => /no transaction is active/.test(String(e))),
      'the rollback does not hide the cause',
    );
    assert.ok(mw.rt.runner.running().length <= 1);

    rmSync(disk.reserve);
    const request = await waitForRequest(master, buildrequestid, 60_000);
    assert.equal(request.results, EXCEPTION);
    const [build] = await master.data.builds.forRequest(buildrequestid);
    assert.ok(build?.completeAt, 'the build is recorded finished');
    assert.equal(build.results, EXCEPTION);
    assert.deepEqual(mw.rt.runner.running(), []);

    const next = await forceBuild(master, { builder: 'small' });
    const done = await waitForRequest(master, next.buildrequestid, 60_000);
    assert.equal(done.results, SUCCESS);
  });
});

describe('a full disk under a `lathe start`ed master', {
  skip: !isRoot || !workerAvailable('lathe'),
  timeout: 300_000,
}, () => {
  const tmp = tempDir('lathe-disk-full-daemon-');
  const fs = join(tmp.path, 'fs');
  const dir = join(fs, 'master');
  let disk: ReturnType<typeof mountSmallDisk>;
  const worker = { current: null as ReturnType<typeof createWorker> | null };

  before(() => {
    disk = mountSmallDisk(fs);
  });
  after(async () => {
    await worker.current?.kill();
    const pidFile = join(dir, 'lathe.pid');
    try {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    } catch {}
    disk?.unmount();
    tmp.cleanup();
  });

  it('keeps running while its disk and its log are full, then builds again', async () => {
    const created = await lathe(['create-master', dir, '--worker-port', '0']);
    assert.equal(created.code, 0, created.stderr);
    rmSync(join(dir, 'sample-project'), { recursive: true });
    // The worker needs the port before the master runs: a free one, tried again if a test
    // running beside this one took it in the meantime.
    let port = 0;
    let started: CliResult | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      port = await freePort();
      writeFileSync(join(dir, 'master.config.ts'), config('@lathe/master', port));
      started = await lathe(['start', dir]);
      if (started.code === 0 || !/already in use/.test(started.stderr)) break;
    }
    assert.equal(started?.code, 0, started?.stderr);
    const pid = Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'));
    const workerDir = join(tmp.path, 'worker');
    worker.current = createWorker('lathe', workerDir, 'w1', 'pw-1', port);
    worker.current.start();

    const flood = await lathe(['force', 'flood', '--dir', dir, '--no-wait']);
    assert.equal(flood.code, 0, flood.stderr);
    await waitFor(() => existsSync(join(workerDir, 'flood', 'build')), 60_000, 'the flood build to start');
    // Not a byte left, for the database and for lathe.log alike.
    const filler = fillUp(fs);
    // Time for the failed writes, their error reports and the log writes that fail too.
    await new Promise((r) => setTimeout(r, 5000));
    assert.ok(alive(pid), 'the master survived the full disk');
    rmSync(filler);

    rmSync(disk.reserve);
    const small = await lathe(['force', 'small', '--dir', dir, '--timeout', '120']);
    assert.equal(small.code, 0, `${small.stdout}\n${small.stderr}`);
    assert.ok(alive(pid));
    const stopped = await lathe(['stop', dir, '--timeout', '60']);
    assert.equal(stopped.code, 0, stopped.stderr);
    await waitFor(() => !alive(pid), 10_000, 'the master to exit');

    const log = readFileSync(join(dir, 'lathe.log'), 'utf8');
    assert.match(log, /disk full: cannot write the database .*state\.sqlite \(SQLITE_FULL\)/);
    assert.doesNotMatch(log, /no transaction is active|fatal: uncaught exception/);
    assert.doesNotMatch(log, /SIGKILL/);
    const { data, close } = await openData(join(dir, 'state.sqlite'));
    try {
      const request = await data.buildrequests.get(1);
      assert.equal(request?.complete, true, 'the flood build request is released');
      assert.equal(request?.results, EXCEPTION);
    } finally {
      await close();
    }
  });
});
