// Changes make builds on their own: a stock `buildbot sendchange` 3.7 and `lathe sendchange`
// log in to the PB change source on the worker port of a master with a real (Lathe) worker;
// the change is stored before the client hears back, single-branch schedulers turn it into
// a build of its branch and revision, and the build names the change it built. A wrong
// password is refused, a tree-stable timer collapses quick changes into one build, and a
// change on a branch no scheduler watches builds nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { sendChange } from '../src/cli/commands/sendchange.js';
import type { Master } from '../src/master.js';
import { SUCCESS } from '../src/results.js';
import { waitFor, workerAvailable } from './bbworker.js';
import { lathe } from './cli-helpers.js';
import { tempDir } from './helpers.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';

const BUILDBOT = '/usr/bin/buildbot';
const run = promisify(execFile);
const latheIndex = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const STABLE_SECONDS = 2;

const configText = `import { buildFactory, defineConfig, interpolate, pbChangeSource, shellCommand, singleBranchScheduler } from '${latheIndex}';
const echo = buildFactory(shellCommand({ command: interpolate('echo building %(prop:branch)s at %(prop:revision)s') }));
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [
    { name: 'app', workerNames: ['w1'], factory: echo },
    { name: 'app-stable', workerNames: ['w1'], factory: echo },
  ],
  changeSources: [pbChangeSource({ user: 'change', passwd: 'changepw' })],
  schedulers: [
    singleBranchScheduler({ name: 'on-main', branch: 'main', builderNames: ['app'], properties: { via: 'scheduler' } }),
    singleBranchScheduler({ name: 'on-stable', branch: 'stable', treeStableTimer: ${STABLE_SECONDS}, builderNames: ['app-stable'] }),
  ],
});
`;

describe('changes start builds', { skip: !workerAvailable('lathe') || !existsSync(BUILDBOT) }, () => {
  const dir = tempDir('lathe-changes-');
  let env: MasterAndWorker | undefined;
  let master: Master;
  let port: number;

  before(async () => {
    env = await startMasterAndWorker({
      kind: 'lathe',
      masterDir: join(dir.path, 'master'),
      workerDir: join(dir.path, 'worker'),
      configText,
      name: 'changes-e2e',
      quiet: true,
    });
    master = env.master;
    port = env.rt.server.port;
  });
  after(async () => {
    await env?.stop();
    dir.cleanup();
  });

  const latestChangeId = async () => (await master.data.changes.recent(1))[0] ?? 0;
  const buildsetCount = async () =>
    Number(
      (
        await master.db.kysely
          .selectFrom('buildsets')
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  /** The one finished build of a change, once there is one. */
  async function finishedBuildOf(changeid: number): Promise<number> {
    let buildid = 0;
    await waitFor(
      async () => {
        const ids = await master.data.changes.buildIds(changeid);
        const build = ids.length > 0 ? await master.data.builds.get(ids[0]!) : undefined;
        if (build?.completeAt) buildid = build.id;
        return buildid !== 0;
      },
      30_000,
      `a finished build of change ${changeid}`,
    );
    return buildid;
  }

  it('stock buildbot sendchange: stored before the answer, built with its branch and revision', async () => {
    const before = await latestChangeId();
    const { stdout } = await run(BUILDBOT, [
      'sendchange',
      `--master=127.0.0.1:${port}`,
      '--auth=change:changepw',
      '--who=Alice <alice@example.invalid>',
      '--branch=main',
      '--revision=abc123',
      '--comments=fix the frobnicator',
      '--property=prop1:value1',
      '--vc=git',
      '--category=cat1',
      '--project=proj1',
      '--repository=https://example.invalid/repo.git',
      '--when=1700000000',
      'src/main.c',
      'README',
    ]);
    assert.match(stdout, /change sent successfully/);
    // sendchange has exited: the master answered, so the change must already be stored.
    const changeid = await latestChangeId();
    assert.ok(changeid > before, 'the change is stored by the time the client is answered');
    const change = await master.data.changes.get(changeid);
    assert.deepEqual(
      {
        author: change?.author,
        branch: change?.branch,
        revision: change?.revision,
        comments: change?.comments,
        category: change?.category,
        project: change?.project,
        repository: change?.repository,
        when: change?.when,
        files: change?.files,
        properties: change?.properties,
      },
      {
        author: 'Alice <alice@example.invalid>',
        branch: 'main',
        revision: 'abc123',
        comments: 'fix the frobnicator',
        category: 'cat1',
        project: 'proj1',
        repository: 'https://example.invalid/repo.git',
        when: 1700000000,
        files: ['src/main.c', 'README'],
        properties: { prop1: 'value1' },
      },
    );

    const buildid = await finishedBuildOf(changeid);
    const build = await master.data.builds.get(buildid);
    assert.equal(build?.results, SUCCESS);
    assert.equal(build?.builderid, master.builders.get('app')!.builderid);
    const props = await master.data.builds.properties(buildid);
    assert.deepEqual(props.branch, ['main', 'Build']);
    assert.deepEqual(props.revision, ['abc123', 'Build']);
    assert.deepEqual(props.scheduler, ['on-main', 'Scheduler']);
    assert.deepEqual(props.via, ['scheduler', 'Scheduler']);
    assert.deepEqual(
      (await master.data.changes.ofBuild(buildid)).map((c) => c.id),
      [changeid],
    );
  });

  it('lathe sendchange does the same', async () => {
    const r = await lathe([
      'sendchange',
      '--master',
      `127.0.0.1:${port}`,
      '--who',
      'bob',
      '--branch',
      'main',
      '--revision',
      'def456',
      '-p',
      'ticket:42',
      'lib/x.c',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const changeid = await latestChangeId();
    const change = await master.data.changes.get(changeid);
    assert.equal(change?.author, 'bob');
    assert.deepEqual(change?.files, ['lib/x.c']);
    assert.deepEqual(change?.properties, { ticket: '42' });
    const buildid = await finishedBuildOf(changeid);
    assert.deepEqual((await master.data.builds.properties(buildid)).revision, ['def456', 'Build']);
    assert.deepEqual(
      (await master.data.changes.ofBuild(buildid)).map((c) => c.revision),
      ['def456'],
    );
  });

  it('refuses a wrong password, stock client and lathe alike, and stores nothing', async () => {
    const before = await latestChangeId();
    await assert.rejects(
      run(BUILDBOT, [
        'sendchange',
        `--master=127.0.0.1:${port}`,
        '--auth=change:wrong',
        '--who=mallory',
        '--branch=main',
      ]),
      // Twisted prints a refused login as a bare RemoteError (its value is empty), as
      // against a Buildbot master; the lathe client below tells the reason apart.
      (err: { code?: number; stdout?: string }) =>
        err.code === 1 && /change not sent:[\s\S]*twisted\.spread\.pb\.RemoteError/.test(err.stdout ?? ''),
    );
    const r = await lathe([
      'sendchange',
      '--master',
      `127.0.0.1:${port}`,
      '--auth',
      'change:wrong',
      '--who',
      'mallory',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refused the credentials of change source user "change"/);
    assert.equal(await latestChangeId(), before);
  });

  it('lathe sendchange says so when no master listens', async () => {
    const r = await lathe(['sendchange', '--master', '127.0.0.1:1', '--who', 'bob']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no master answers on 127\.0\.0\.1:1/);
  });

  it('a tree-stable timer collapses two quick changes into one build of the newer', async () => {
    const buildsets = await buildsetCount();
    // In-process (what `lathe sendchange` runs): a CLI start-up can take longer than the timer.
    for (const revision of ['s1', 's2']) {
      const change = { who: 'carol', branch: 'stable', revision, files: [] };
      await sendChange({ host: '127.0.0.1', port, user: 'change', password: 'changepw', change });
    }
    const second = await latestChangeId();
    const first = second - 1;
    assert.equal((await master.data.changes.get(first))?.revision, 's1');
    const buildid = await finishedBuildOf(second);
    assert.deepEqual((await master.data.builds.properties(buildid)).revision, ['s2', 'Build']);
    // Nothing else comes of the first change, even after another timer's length.
    await new Promise((r) => setTimeout(r, STABLE_SECONDS * 1500));
    assert.equal(await buildsetCount(), buildsets + 1);
    assert.deepEqual(await master.data.changes.buildIds(first), []);
  });

  it('a change on a branch no scheduler watches is stored and builds nothing', async () => {
    const buildsets = await buildsetCount();
    const r = await lathe([
      'sendchange',
      '--master',
      `127.0.0.1:${port}`,
      '--who',
      'dave',
      '--branch',
      'feature-x',
      '--revision',
      'f1',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const changeid = await latestChangeId();
    assert.equal((await master.data.changes.get(changeid))?.branch, 'feature-x');
    // Schedulers act on change.new; once the bus is idle they have decided (no timers here:
    // the stable scheduler's filter does not match either).
    await master.bus.idle();
    assert.equal(await buildsetCount(), buildsets);
  });
});
