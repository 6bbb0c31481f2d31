// The Git step's modes and options on real repositories, once against a stock Python
// buildbot-worker 3.7 and once against Lathe's worker: incremental updates to a new
// revision, full/fresh and full/clean on untracked and ignored files, full/copy (a kept
// `source` checkout copied afresh), shallow clones, submodules that follow the superproject,
// a bad revision, retryFetch, clobberOnFailure, clone retries, reference, origin and
// getDescription. Every outcome is read from the worker's directories or the master's data.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { FAILURE, type Result, SUCCESS } from '../src/results.js';
import { type WorkerKind, workerAvailable } from './bbworker.js';
import { tempDir } from './helpers.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const ALLOW_FILE = "{ 'protocol.file.allow': 'always' }";
const NO_SUCH_REVISION = '0123456789abcdef0123456789abcdef01234567';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.org',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.org',
    },
  }).trim();
}

function commit(repo: string, file: string, content: string, message: string): string {
  writeFileSync(join(repo, file), content);
  git(repo, 'add', file);
  git(repo, 'commit', '-q', '-m', message);
  return git(repo, 'rev-parse', 'HEAD');
}

/** Git ≥ 2.38.1 refuses file:// submodules unless protocol.file.allow says otherwise. */
function gitRefusesFileSubmodules(): boolean {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(git('.', '--version'));
  if (!m) return false;
  const [major, minor, patch] = m.slice(1).map(Number) as [number, number, number];
  return major > 2 || (major === 2 && (minor > 38 || (minor === 38 && patch >= 1)));
}

interface Repos {
  /** The project: three commits on main, the first tagged v1.0; ignores *.o. */
  readonly project: string;
  /** A superproject with `sub` as submodule `lib`. */
  readonly superproject: string;
  readonly sub: string;
  readonly revs: string[];
}

function createRepos(dir: string): Repos {
  const project = join(dir, 'project');
  mkdirSync(project);
  git(project, 'init', '-q', '-b', 'main');
  writeFileSync(join(project, '.gitignore'), '*.o\n');
  git(project, 'add', '.gitignore');
  const revs = [commit(project, 'app.txt', 'app v1\n', 'one')];
  git(project, 'tag', 'v1.0');
  revs.push(commit(project, 'app.txt', 'app v2\n', 'two'));
  revs.push(commit(project, 'app.txt', 'app v3\n', 'three'));

  const sub = join(dir, 'sub');
  mkdirSync(sub);
  git(sub, 'init', '-q', '-b', 'main');
  commit(sub, 'lib.txt', 'lib v1\n', 'lib one');
  const superproject = join(dir, 'super');
  mkdirSync(superproject);
  git(superproject, 'init', '-q', '-b', 'main');
  commit(superproject, 'main.txt', 'super\n', 'super one');
  git(superproject, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', `file://${sub}`, 'lib');
  git(superproject, 'commit', '-q', '-m', 'add lib');
  return { project, superproject, sub, revs };
}

function configText(r: Repos): string {
  const url = JSON.stringify(`file://${r.project}`);
  const superUrl = JSON.stringify(`file://${r.superproject}`);
  const builder = (name: string, options: string) =>
    `{ name: '${name}', workerNames: ['w1'], factory: buildFactory(git({ repourl: ${url}, ${options} })) },`;
  return `import { buildFactory, defineConfig, git } from '${lathe}';
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [
    ${builder('incremental', 'getDescription: { tags: true, long: true }')}
    ${builder('fresh', "mode: 'full', method: 'fresh'")}
    ${builder('clean', `mode: 'full', method: 'clean', reference: ${JSON.stringify(r.project)}`)}
    ${builder('copy', "mode: 'full', method: 'copy', origin: 'upstream'")}
    ${builder('shallow', "mode: 'full', method: 'clobber', shallow: true")}
    ${builder('shallow2', "mode: 'full', method: 'clobber', shallow: 2")}
    ${builder('retry-fetch', 'retryFetch: true')}
    ${builder('clobber-on-failure', 'clobberOnFailure: true')}
    { name: 'clone-retry', workerNames: ['w1'], factory: buildFactory(git({ repourl: 'file:///nonexistent/lathe-repo', retry: [0.1, 2] })) },
    { name: 'sub-incremental', workerNames: ['w1'], factory: buildFactory(git({ repourl: ${superUrl}, submodules: true, config: ${ALLOW_FILE} })) },
    { name: 'sub-fresh', workerNames: ['w1'], factory: buildFactory(git({ repourl: ${superUrl}, mode: 'full', method: 'fresh', submodules: true, config: ${ALLOW_FILE} })) },
    { name: 'sub-copy', workerNames: ['w1'], factory: buildFactory(git({ repourl: ${superUrl}, mode: 'full', method: 'copy', submodules: true, config: ${ALLOW_FILE} })) },
    { name: 'sub-refused', workerNames: ['w1'], factory: buildFactory(git({ repourl: ${superUrl}, submodules: true })) },
  ],
});
`;
}

const TITLES: Record<WorkerKind, string> = {
  stock: 'a stock buildbot-worker 3.7',
  lathe: "Lathe's worker",
};

for (const kind of ['stock', 'lathe'] as const) scenarios(kind);

function scenarios(kind: WorkerKind): void {
  describe(`the Git step on ${TITLES[kind]}`, { skip: !workerAvailable(kind) }, () => {
    const dir = tempDir(`lathe-git-${kind}-`);
    const masterDir = join(dir.path, 'master');
    const workerDir = join(dir.path, 'worker');
    let repos: Repos;
    let env: MasterAndWorker | undefined;
    let master: Master;
    const errors: string[] = [];

    before(async () => {
      repos = createRepos(dir.path);
      env = await startMasterAndWorker({
        kind,
        masterDir,
        workerDir,
        configText: configText(repos),
        name: 'git',
        onError: (err, ctx) => errors.push(`${ctx}: ${String(err)}`),
        quiet: true,
      });
      master = env.master;
    });

    after(async () => {
      await env?.stop();
      dir.cleanup();
    });

    /** A path in a builder's directory on the worker. */
    const onWorker = (builder: string, ...parts: string[]) => join(workerDir, builder, ...parts);
    const read = (builder: string, ...parts: string[]) => readFileSync(onWorker(builder, ...parts), 'utf8');

    async function run(builder: string, extra: { branch?: string; revision?: string } = {}) {
      const { buildrequestid } = await forceBuild(master, { builder, ...extra });
      await waitForRequest(master, buildrequestid, 60_000);
      const build = (await master.data.builds.forRequest(buildrequestid)).at(-1)!;
      const [step] = await master.data.steps.forBuild(build.id);
      assert.ok(step, `the git step of ${builder}`);
      const log = (await master.data.logs.forStep(step.id)).find((l) => l.name === 'stdio')!;
      const row = (await master.data.logs.get(log.id))!;
      const lines = await master.data.logs.lines(log.id, 0, row.numLines - 1);
      const props = await master.data.builds.properties(build.id);
      return {
        results: build.results as Result,
        step: step.results as Result,
        props,
        log: lines.join('\n'),
        /** The git commands run, as the worker's headers show them. */
        commands: lines.filter((l) => l.startsWith('hgit ')).map((l) => l.slice(1)),
      };
    }

    it('incremental: clones, fetches a new revision and checks it out, keeps untracked files, describes', async () => {
      const first = await run('incremental', { branch: 'main', revision: repos.revs[0]! });
      assert.equal(first.results, SUCCESS, first.log);
      assert.equal(read('incremental', 'build', 'app.txt'), 'app v1\n');
      assert.deepEqual(first.props.got_revision, [repos.revs[0], 'Git']);
      const described = git(repos.project, 'describe', '--tags', '--long', repos.revs[0]!);
      assert.match(described, /^v1\.0-0-g[0-9a-f]+$/);
      assert.deepEqual(first.props['commit-description'], [described, 'Git']);
      assert.ok(
        first.commands.some((c) => c.startsWith('git clone --branch main')),
        first.log,
      );

      writeFileSync(onWorker('incremental', 'build', 'untracked.txt'), 'mine\n');
      const next = commit(repos.project, 'app.txt', 'app v4\n', 'four');
      const second = await run('incremental', { branch: 'main', revision: next });
      assert.equal(second.results, SUCCESS, second.log);
      assert.ok(
        second.commands.some((c) => c.startsWith('git fetch -f -t')),
        'a new revision is fetched',
      );
      assert.ok(!second.commands.some((c) => c.startsWith('git clone')), 'not cloned again');
      assert.equal(read('incremental', 'build', 'app.txt'), 'app v4\n');
      assert.equal(read('incremental', 'build', 'untracked.txt'), 'mine\n', 'incremental does not clean');
      assert.deepEqual(second.props.got_revision, [next, 'Git']);
      assert.deepEqual(second.props['commit-description'], [
        git(repos.project, 'describe', '--tags', '--long', next),
        'Git',
      ]);
      assert.equal(git(onWorker('incremental', 'build'), 'rev-parse', '--abbrev-ref', 'HEAD'), 'main');

      const bad = await run('incremental', { branch: 'main', revision: NO_SUCH_REVISION });
      assert.equal(bad.step, FAILURE, bad.log);
      assert.equal(bad.results, FAILURE);
      assert.equal(bad.props.got_revision, undefined);
      assert.ok(
        bad.commands.some((c) => c.startsWith(`git checkout -f ${NO_SUCH_REVISION}`)),
        bad.log,
      );
      assert.equal(read('incremental', 'build', 'app.txt'), 'app v4\n', 'the tree stays as it was');
    });

    it('full/fresh removes untracked and ignored files; full/clean keeps ignored ones; both restore edits', async () => {
      for (const b of ['fresh', 'clean']) assert.equal((await run(b)).results, SUCCESS);
      // clean borrows objects from the reference repository instead of copying them.
      const alternates = read('clean', 'build', '.git', 'objects', 'info', 'alternates');
      assert.equal(alternates.trim(), join(repos.project, '.git', 'objects'));
      for (const b of ['fresh', 'clean']) {
        writeFileSync(onWorker(b, 'build', 'untracked.txt'), 'x\n');
        writeFileSync(onWorker(b, 'build', 'ignored.o'), 'x\n');
        mkdirSync(onWorker(b, 'build', 'newdir'));
        writeFileSync(onWorker(b, 'build', 'newdir', 'f'), 'x\n');
        writeFileSync(onWorker(b, 'build', 'app.txt'), 'edited\n');
      }
      const tip = git(repos.project, 'rev-parse', 'HEAD');
      for (const b of ['fresh', 'clean']) {
        const again = await run(b);
        assert.equal(again.results, SUCCESS, again.log);
        assert.deepEqual(again.props.got_revision, [tip, 'Git']);
        assert.ok(!existsSync(onWorker(b, 'build', 'untracked.txt')), `${b}: untracked file removed`);
        assert.ok(!existsSync(onWorker(b, 'build', 'newdir')), `${b}: untracked directory removed`);
        assert.equal(
          read(b, 'build', 'app.txt'),
          `${git(repos.project, 'show', 'HEAD:app.txt')}\n`,
          `${b}: edit undone`,
        );
      }
      assert.ok(!existsSync(onWorker('fresh', 'build', 'ignored.o')), 'fresh removes ignored files');
      assert.equal(read('clean', 'build', 'ignored.o'), 'x\n', 'clean keeps ignored files');
    });

    it('full/copy updates a kept source checkout and copies it over a removed build directory', async () => {
      const first = await run('copy');
      assert.equal(first.results, SUCCESS, first.log);
      const tip = git(repos.project, 'rev-parse', 'HEAD');
      assert.deepEqual(first.props.got_revision, [tip, 'Git']);
      assert.equal(git(onWorker('copy', 'source'), 'remote'), 'upstream', 'origin names the remote');
      assert.equal(git(onWorker('copy', 'build'), 'rev-parse', 'HEAD'), tip, 'the copy is a checkout too');
      assert.equal(read('copy', 'build', 'app.txt'), read('copy', 'source', 'app.txt'));

      // A mark inside the kept checkout's .git (git leaves it alone), junk in the copy.
      writeFileSync(onWorker('copy', 'source', '.git', 'lathe-mark'), 'kept\n');
      writeFileSync(onWorker('copy', 'build', 'junk.txt'), 'junk\n');
      const next = commit(repos.project, 'app.txt', 'app v5\n', 'five');
      const second = await run('copy', { branch: 'main', revision: next });
      assert.equal(second.results, SUCCESS, second.log);
      assert.ok(!second.commands.some((c) => c.startsWith('git clone')), 'the source checkout is updated');
      assert.equal(read('copy', 'source', '.git', 'lathe-mark'), 'kept\n', 'source kept');
      assert.equal(read('copy', 'source', 'app.txt'), 'app v5\n');
      assert.equal(read('copy', 'build', 'app.txt'), 'app v5\n');
      assert.ok(!existsSync(onWorker('copy', 'build', 'junk.txt')), 'the build directory is a fresh copy');
      assert.equal(read('copy', 'build', '.git', 'lathe-mark'), 'kept\n', 'copied from source');
      assert.deepEqual(second.props.got_revision, [next, 'Git']);
    });

    it('shallow clones only the last commit, or the last N', async () => {
      const tip = git(repos.project, 'rev-parse', 'HEAD');
      const one = await run('shallow');
      assert.equal(one.results, SUCCESS, one.log);
      assert.ok(
        one.commands.some((c) => c.includes(' --depth 1 ')),
        one.log,
      );
      assert.equal(git(onWorker('shallow', 'build'), 'rev-list', '--count', 'HEAD'), '1');
      assert.ok(existsSync(onWorker('shallow', 'build', '.git', 'shallow')));
      assert.deepEqual(one.props.got_revision, [tip, 'Git']);
      const two = await run('shallow2');
      assert.equal(two.results, SUCCESS, two.log);
      assert.equal(git(onWorker('shallow2', 'build'), 'rev-list', '--count', 'HEAD'), '2');
      assert.ok(Number(git(repos.project, 'rev-list', '--count', 'HEAD')) > 2, 'the history is longer');
    });

    it('checks out submodules and follows the superproject when it moves the submodule pointer', async () => {
      if (gitRefusesFileSubmodules()) {
        const refused = await run('sub-refused');
        assert.equal(
          refused.results,
          FAILURE,
          'without protocol.file.allow git refuses the file:// submodule',
        );
        assert.match(refused.log, /transport 'file' not allowed/);
      }
      for (const b of ['sub-incremental', 'sub-fresh', 'sub-copy']) {
        const first = await run(b);
        assert.equal(first.results, SUCCESS, first.log);
        assert.ok(first.commands.some((c) => c.startsWith('git -c protocol.file.allow=always clone')));
        assert.equal(read(b, 'build', 'lib', 'lib.txt'), 'lib v1\n', b);
      }
      writeFileSync(onWorker('sub-fresh', 'build', 'lib', 'stray.txt'), 'x\n');

      // The submodule moves on; the superproject records its new commit.
      const subNext = commit(repos.sub, 'lib.txt', 'lib v2\n', 'lib two');
      const lib = join(repos.superproject, 'lib');
      git(lib, 'fetch', '-q', 'origin');
      git(lib, 'checkout', '-q', subNext);
      git(repos.superproject, 'add', 'lib');
      git(repos.superproject, 'commit', '-q', '-m', 'lib two');
      const superNext = git(repos.superproject, 'rev-parse', 'HEAD');

      for (const b of ['sub-incremental', 'sub-fresh', 'sub-copy']) {
        const second = await run(b, { branch: 'main', revision: superNext });
        assert.equal(second.results, SUCCESS, second.log);
        assert.ok(
          second.commands.some((c) => c.includes(' submodule update --init --recursive --force --checkout')),
          second.log,
        );
        assert.equal(read(b, 'build', 'lib', 'lib.txt'), 'lib v2\n', b);
        assert.equal(git(onWorker(b, 'build', 'lib'), 'rev-parse', 'HEAD'), subNext, b);
        assert.deepEqual(second.props.got_revision, [superNext, 'Git']);
      }
      assert.ok(!existsSync(onWorker('sub-fresh', 'build', 'lib', 'stray.txt')), 'fresh cleans submodules');
    });

    it('retries a failed fetch, clobbers after one, and retries a failed clone', async () => {
      for (const b of ['retry-fetch', 'clobber-on-failure']) {
        assert.equal((await run(b)).results, SUCCESS);
        // A broken checkout: git no longer sees a repository there.
        writeFileSync(onWorker(b, 'build', '.git', 'HEAD'), 'garbage\n');
      }
      const retried = await run('retry-fetch');
      assert.equal(retried.results, FAILURE, retried.log);
      assert.equal(retried.commands.filter((c) => c.startsWith('git fetch')).length, 2, retried.log);

      const clobbered = await run('clobber-on-failure');
      assert.equal(clobbered.results, SUCCESS, clobbered.log);
      assert.ok(
        clobbered.commands.some((c) => c.startsWith('git clone')),
        clobbered.log,
      );
      const tip = git(repos.project, 'rev-parse', 'HEAD');
      assert.equal(git(onWorker('clobber-on-failure', 'build'), 'rev-parse', 'HEAD'), tip);
      assert.deepEqual(clobbered.props.got_revision, [tip, 'Git']);

      const cloneRetry = await run('clone-retry');
      assert.equal(cloneRetry.results, FAILURE);
      assert.equal(cloneRetry.commands.filter((c) => c.startsWith('git clone')).length, 3, cloneRetry.log);
      assert.deepEqual(errors, []);
    });
  });
}
