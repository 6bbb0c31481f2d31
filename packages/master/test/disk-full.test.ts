// A full disk under the master directory: a build whose log fills a small tmpfs holding the
// master's database. The master reports the cause ("disk full", with the database's path),
// keeps serving, and once space is freed records the stuck build as finished and releases
// its request; the next build then succeeds. Mounting needs root: CI runs as root and
// scripts/test-deps.mjs refuses to run the suite in CI otherwise; elsewhere this skips.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isDiskFull } from '../src/db/errors.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { EXCEPTION, SUCCESS } from '../src/results.js';
import { waitFor, workerAvailable } from './bbworker.js';
import { tempDir } from './helpers.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const isRoot = process.getuid?.() === 0;

const CONFIG = `import { buildFactory, defineConfig, shellCommand } from '${lathe}';
export default defineConfig({
  workerPort: 0,
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

describe('a full disk under the master', {
  skip: !isRoot || !workerAvailable('lathe'),
  timeout: 300_000,
}, () => {
  const tmp = tempDir('lathe-disk-full-');
  const fs = join(tmp.path, 'fs');
  const masterDir = join(fs, 'master');
  const reserve = join(fs, 'reserve');
  const errors: unknown[] = [];
  let mw: MasterAndWorker;

  before(async () => {
    mkdirSync(fs);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', fs]);
    // Freed later to give the master room again.
    writeFileSync(reserve, Buffer.alloc(512 * 1024, 1));
    mw = await startMasterAndWorker({
      kind: 'lathe',
      masterDir,
      workerDir: join(tmp.path, 'worker'),
      configText: CONFIG,
      name: 'disk-full',
      onError: (err) => errors.push(err),
      quiet: true,
    });
  });

  after(async () => {
    await mw?.stop().catch(() => {});
    execFileSync('umount', ['-l', fs]);
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

    rmSync(reserve);
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
