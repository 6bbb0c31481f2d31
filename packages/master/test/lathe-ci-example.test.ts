// The reference installation, examples/lathe-ci, started by its own script as the README
// says, on a scratch clone of this repository: the first poll builds nothing old, then a
// commit pushed to the clone becomes a change, a build of that revision, a checkout by the
// Lathe worker and a test run. To keep CI short the test step runs one small test file of
// the repository (scripts/test-deps.test.mjs) instead of the whole suite.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { workerAvailable } from './bbworker.js';
import { lathe, waitFor } from './cli-helpers.js';
import { tempDir } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const START = join(ROOT, 'examples', 'lathe-ci', 'start.mjs');
const WORKER_CLI = join(ROOT, 'packages', 'worker', 'dist', 'src', 'cli.js');
const gitAvailable = spawnSync('git', ['--version']).status === 0;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Lathe Test', '-c', 'user.email=test@example.org', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();
}

interface BuildRow {
  id: number;
  results: number | null;
  revision: string | null;
}

describe('examples/lathe-ci', { skip: !gitAvailable || !workerAvailable('lathe') }, () => {
  const dir = tempDir('lathe-ci-example-');
  const scratch = join(dir.path, 'scratch');
  const masterDir = join(dir.path, 'ci');

  const builds = (): BuildRow[] => {
    const db = new DatabaseSync(join(masterDir, 'state.sqlite'), { readOnly: true });
    try {
      return db
        .prepare(
          `SELECT b.id, b.results, ss.revision FROM builds b
           JOIN buildrequests br ON br.id = b.buildrequestid
           JOIN buildset_sourcestamps bss ON bss.buildsetid = br.buildsetid
           JOIN sourcestamps ss ON ss.id = bss.sourcestampid ORDER BY b.id`,
        )
        .all() as unknown as BuildRow[];
    } finally {
      db.close();
    }
  };

  const steps = (buildid: number) => {
    const db = new DatabaseSync(join(masterDir, 'state.sqlite'), { readOnly: true });
    try {
      return db
        .prepare('SELECT name, results FROM steps WHERE buildid = ? ORDER BY number')
        .all(buildid)
        .map((r) => ({ ...r }));
    } finally {
      db.close();
    }
  };

  before(() => {
    git(dir.path, 'clone', '--quiet', ROOT, scratch);
  });
  after(async () => {
    await lathe(['stop', masterDir]).catch(() => {});
    spawnSync(process.execPath, [WORKER_CLI, 'stop', join(masterDir, 'worker')]);
    dir.cleanup();
  });

  it('builds and tests a commit made to the repository it polls', { timeout: 240_000 }, async () => {
    const start = spawnSync(
      process.execPath,
      [
        START,
        '--repo',
        scratch,
        '--poll',
        '1',
        '--worker-port',
        String(await freePort()),
        '--test',
        JSON.stringify(['node', '--test', 'scripts/test-deps.test.mjs']),
        masterDir,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(start.status, 0, `${start.stdout}\n${start.stderr}`);
    assert.match(start.stdout, /Lathe CI is running/);

    // Polls so far only learned where the branch is: the clone's history is not built.
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(builds(), []);

    git(scratch, 'commit', '--quiet', '--allow-empty', '-m', 'a commit for lathe-ci to build');
    const sha = git(scratch, 'rev-parse', 'HEAD');
    await waitFor(() => builds().some((b) => b.results !== null), 180_000, 'the build of the new commit');
    const [build] = builds();
    assert.equal(build!.revision, sha);
    assert.deepEqual(steps(build!.id), [
      { name: 'git', results: 0 },
      { name: 'test', results: 0 },
    ]);
    assert.equal(build!.results, 0);
  });
});
