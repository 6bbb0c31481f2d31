// Try jobs end to end: a real git repository (an "upstream" and a developer's clone), a real
// master whose builder checks out the upstream with the Git step and runs the project's test
// script, and a real worker. A patch that breaks the test fails the build, one that fixes it
// passes — sent by the stock Debian `buildbot try` 3.7 over PB (--wait) and through its ssh
// path into a job directory (ssh replaced by a local shell, `buildbot tryserver` unchanged),
// and by `lathe try`, whose output names each step's result and the failing log's tail. The
// same Git step patches the tree on a stock buildbot-worker. `lathe try` says clearly when
// the master is down, refuses the credentials, or the tree has no upstream.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Master } from '../src/master.js';
import { FAILURE, type Result, SUCCESS } from '../src/results.js';
import { stockWorkerAvailable, waitFor, workerAvailable } from './bbworker.js';
import { lathe } from './cli-helpers.js';
import { tempDir } from './helpers.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';

const BUILDBOT = '/usr/bin/buildbot';
const run = promisify(execFile);
const latheIndex = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Dev',
      GIT_AUTHOR_EMAIL: 'dev@example.invalid',
      GIT_COMMITTER_NAME: 'Dev',
      GIT_COMMITTER_EMAIL: 'dev@example.invalid',
    },
  });
}

// A text file that is not UTF-8: its diff is bytes that must reach `git apply` unchanged,
// or the context line does not match and the Git step fails.
const LATIN1_BEFORE = Buffer.from('caf\xe9\n', 'latin1');
const LATIN1_AFTER = Buffer.from('caf\xe9 cr\xe8me\n', 'latin1');

/** An upstream repository whose test passes, and a clone tracking it where patches are made. */
function makeRepos(root: string): { upstream: string; work: string } {
  const upstream = join(root, 'upstream.git');
  const seed = join(root, 'seed');
  const work = join(root, 'work');
  git(root, 'init', '-q', '--bare', '-b', 'main', upstream);
  git(root, 'init', '-q', '-b', 'main', seed);
  writeFileSync(join(seed, 'value.txt'), 'good\n');
  // The project's test: fails loudly, with the value it found, unless value.txt says good.
  writeFileSync(
    join(seed, 'test.sh'),
    'v=$(cat value.txt)\nfor i in 1 2 3 4 5; do echo "checking part $i"; done\nif [ "$v" = good ]; then echo "all parts good"; else echo "FAILED: value is $v"; exit 1; fi\n',
  );
  writeFileSync(join(seed, 'latin1.txt'), LATIN1_BEFORE);
  git(seed, 'add', '.');
  git(seed, 'commit', '-q', '-m', 'a passing project');
  git(seed, 'push', '-q', upstream, 'main');
  git(root, 'clone', '-q', upstream, work);
  return { upstream, work };
}

/** Makes the work tree differ from upstream by `value` in value.txt (uncommitted, as try allows). */
function setValue(work: string, value: string): void {
  writeFileSync(join(work, 'value.txt'), `${value}\n`);
}

function configText(upstream: string): string {
  return `import { buildFactory, defineConfig, git, shellCommand, tryJobdirScheduler, tryUserpassScheduler } from '${latheIndex}';
const factory = buildFactory(
  git({ repourl: ${JSON.stringify(upstream)}, mode: 'full', method: 'fresh' }),
  shellCommand({ name: 'test', command: ['sh', 'test.sh'] }),
);
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [
    { name: 'app', workerNames: ['w1'], factory },
    { name: 'release', workerNames: ['w1'], factory },
  ],
  schedulers: [
    tryUserpassScheduler({ name: 'try-pb', builderNames: ['app'], userpass: [['alice', 'alice-pw']] }),
    tryJobdirScheduler({ name: 'try-jobdir', builderNames: ['app'], jobdir: 'jobs' }),
  ],
});
`;
}

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function latestBuildset(
  master: Master,
): Promise<{ id: number; external_idstring: string | null } | undefined> {
  return master.db.kysely
    .selectFrom('buildsets')
    .select(['id', 'external_idstring'])
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

/** The result of the one build of a buildset, once it has finished. */
async function buildResultOf(master: Master, buildsetid: number): Promise<Result> {
  let result: Result | null = null;
  await waitFor(
    async () => {
      const request = await master.db.kysely
        .selectFrom('buildrequests')
        .select('id')
        .where('buildsetid', '=', buildsetid)
        .executeTakeFirst();
      const builds = request ? await master.data.builds.forRequest(request.id) : [];
      result = builds[0]?.completeAt ? builds[0].results : null;
      return result !== null;
    },
    60_000,
    `the build of buildset ${buildsetid}`,
  );
  return result!;
}

function tryEnd(kind: 'lathe' | 'stock') {
  const dir = tempDir(`lathe-try-${kind}-`);
  let env: MasterAndWorker | undefined;
  let repos: { upstream: string; work: string };
  let port: number;
  before(async () => {
    repos = makeRepos(dir.path);
    env = await startMasterAndWorker({
      kind,
      masterDir: join(dir.path, 'master'),
      workerDir: join(dir.path, 'worker'),
      configText: configText(repos.upstream),
      name: `try-e2e-${kind}`,
      quiet: true,
    });
    port = env.rt.server.port;
  });
  after(async () => {
    await env?.stop();
    dir.cleanup();
  });
  const latheTry = (...extra: string[]) =>
    lathe(
      [
        'try',
        `--master=127.0.0.1:${port}`,
        '--username=alice',
        '--passwd=alice-pw',
        '-C',
        repos.work,
        ...extra,
      ],
      {
        timeoutMs: 90_000,
      },
    );
  return {
    get master() {
      return env!.master;
    },
    get port() {
      return port;
    },
    get repos() {
      return repos;
    },
    latheTry,
  };
}

describe('try with a Lathe worker', { skip: !workerAvailable('lathe') || !existsSync(BUILDBOT) }, () => {
  const t = tryEnd('lathe');

  it('stock buildbot try --connect=pb --wait: a breaking patch fails the build, a fixing one passes', async () => {
    const stockTry = () =>
      run(
        BUILDBOT,
        [
          'try',
          '--connect=pb',
          `--master=127.0.0.1:${t.port}`,
          '--username=alice',
          '--passwd=alice-pw',
          '--vc=git',
          '--builder=app',
          '--who=Alice',
          '--comment=trying a value',
          '--wait',
          '--quiet',
        ],
        { cwd: t.repos.work, timeout: 90_000 },
      ).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
      );
    setValue(t.repos.work, 'bad');
    const failed = await stockTry();
    assert.match(failed.stdout, /All Builds Complete/);
    assert.match(failed.stdout, /^app: failure/m);
    assert.equal(failed.code, 1, failed.stdout);
    // The source stamp carries the patch, its author and comment.
    const bs = await latestBuildset(t.master);
    const ssid = (await t.master.data.buildsets.get(bs!.id))!.sourcestampids[0]!;
    const patch = await t.master.data.sourcestamps.patch(ssid);
    assert.equal(patch?.level, 1);
    assert.match(patch!.body.toString('utf8'), /^\+bad$/m);
    assert.equal(patch?.author, 'Alice');
    assert.equal(patch?.comment, 'trying a value');

    setValue(t.repos.work, 'good');
    writeFileSync(join(t.repos.work, 'value.txt'), 'good\n');
    // A patch that changes something else but keeps the value good: the build passes.
    writeFileSync(
      join(t.repos.work, 'test.sh'),
      `echo patched test\n${execFileSync('git', ['-C', t.repos.work, 'show', 'HEAD:test.sh'], { encoding: 'utf8' })}`,
    );
    const passed = await stockTry();
    assert.match(passed.stdout, /^app: success/m);
    assert.equal(passed.code, 0, passed.stdout);
    git(t.repos.work, 'checkout', '-q', '--', '.');
  });

  it('stock buildbot try --connect=ssh: the job file lands in the job directory and is built', async () => {
    const jobdir = join(t.master.options.basedir, 'jobs');
    // The "ssh" drops the host argument and runs the rest (`buildbot tryserver --jobdir …`) here.
    const stockTry = () =>
      run(
        BUILDBOT,
        [
          'try',
          '--connect=ssh',
          '--host=localhost',
          `--jobdir=${jobdir}`,
          `--buildbotbin=${BUILDBOT}`,
          `--ssh=sh -c 'shift; exec "$@"' sh`,
          '--vc=git',
          '--builder=app',
          '--who=Bob',
          '--properties=reason=jobdir',
        ],
        { cwd: t.repos.work, timeout: 60_000 },
      );
    for (const [value, expected] of [
      ['bad', FAILURE],
      ['good', SUCCESS],
    ] as const) {
      const before = (await latestBuildset(t.master))?.id ?? 0;
      // "good" equals upstream: diff something else so that there is a patch to apply.
      setValue(t.repos.work, value);
      if (value === 'good') writeFileSync(join(t.repos.work, 'notes.txt'), 'a new file\n');
      else git(t.repos.work, 'checkout', '-q', '--', 'test.sh');
      if (value === 'good') git(t.repos.work, 'add', 'notes.txt');
      const { stdout } = await stockTry();
      assert.match(stdout, /job has been delivered/);
      let bs: Awaited<ReturnType<typeof latestBuildset>>;
      await waitFor(
        async () => {
          bs = await latestBuildset(t.master);
          return (bs?.id ?? 0) > before;
        },
        20_000,
        'the job file to become a buildset',
      );
      assert.ok(bs!.external_idstring, 'the job id is kept as the external id');
      assert.equal(await buildResultOf(t.master, bs!.id), expected, `value ${value}`);
      const props = await t.master.data.buildsets.properties(bs!.id);
      assert.deepEqual(props.reason, ['jobdir', 'try build']);
    }
    git(t.repos.work, 'reset', '-q', '--hard');
  });

  it('lathe try prints each step and the failing log tail; exit 1 on failure, 0 on success', async () => {
    setValue(t.repos.work, 'bad');
    const failed = await t.latheTry('--tail=3');
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    assert.match(failed.stdout, /sending \d+ bytes of diff against origin\/main at [0-9a-f]{12}/);
    assert.match(failed.stdout, /job accepted, building on app/);
    assert.match(failed.stdout, /^app: step "git": success$/m);
    assert.match(failed.stdout, /^app: step "test": failure$/m);
    // The tail: the last 3 lines of the failing step's stdio, ending in the test's own words.
    const tail =
      /--- app: step "test" failed; last 3 lines of its log "stdio":\n([\s\S]*?)\napp: failure/.exec(
        failed.stdout,
      );
    assert.ok(tail, failed.stdout);
    assert.equal(tail[1], 'checking part 4\nchecking part 5\nFAILED: value is bad');
    assert.doesNotMatch(tail[1]!, /checking part 3/);

    setValue(t.repos.work, 'good');
    writeFileSync(join(t.repos.work, 'extra.txt'), 'x\n');
    writeFileSync(join(t.repos.work, 'latin1.txt'), LATIN1_AFTER);
    git(t.repos.work, 'add', 'extra.txt');
    git(t.repos.work, 'commit', '-q', '-m', 'local, unpushed commit');
    const passed = await t.latheTry();
    assert.equal(passed.code, 0, passed.stdout + passed.stderr);
    assert.match(passed.stdout, /^app: step "test": success$/m);
    assert.match(passed.stdout, /^app: success/m);
    assert.doesNotMatch(passed.stdout, /failed; last/);
    git(t.repos.work, 'reset', '-q', '--hard', 'origin/main');

    // Nothing to try: said so, and the upstream revision is built as it is.
    const same = await t.latheTry();
    assert.match(same.stdout, /warning: no difference from origin\/main; building it as it is/);
    assert.equal(same.code, 0, same.stdout + same.stderr);
  });

  it('a job asking for a builder the scheduler does not allow builds nothing', async () => {
    setValue(t.repos.work, 'bad');
    const before = (await latestBuildset(t.master))?.id;
    const r = await t.latheTry('--builder=release');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /built nothing: builders \["release"\] are not all allowed \(allowed: app\)/);
    assert.equal((await latestBuildset(t.master))?.id, before);
    git(t.repos.work, 'checkout', '-q', '--', '.');
  });

  it('lathe try: clear errors for a master that is down, refused credentials, and no upstream', async () => {
    const down = await lathe([
      'try',
      `--master=127.0.0.1:${await closedPort()}`,
      '-u',
      'alice',
      '--passwd=alice-pw',
      '-C',
      t.repos.work,
    ]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /lathe try: no master answers on 127\.0\.0\.1:\d+ .*is it running\?/);

    const refused = await t.latheTry('--passwd=wrong');
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /lathe try: the master on 127\.0\.0\.1:\d+ refused the credentials of try user "alice"/,
    );

    git(t.repos.work, 'checkout', '-q', '-b', 'topic');
    try {
      const noUpstream = await t.latheTry();
      assert.equal(noUpstream.code, 1);
      assert.match(
        noUpstream.stderr,
        /lathe try: the branch "topic" of .* has no upstream to diff against; set one with `git branch --set-upstream-to/,
      );
    } finally {
      git(t.repos.work, 'checkout', '-q', 'main');
    }
  });
});

describe('try with a stock buildbot-worker', {
  skip: !stockWorkerAvailable() || !existsSync(BUILDBOT),
}, () => {
  const t = tryEnd('stock');

  it('the Git step patches the tree on the stock worker: fail, then pass', async () => {
    setValue(t.repos.work, 'bad');
    const failed = await t.latheTry();
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    assert.match(failed.stdout, /FAILED: value is bad/);
    setValue(t.repos.work, 'good');
    writeFileSync(join(t.repos.work, 'extra.txt'), 'x\n');
    writeFileSync(join(t.repos.work, 'latin1.txt'), LATIN1_AFTER);
    git(t.repos.work, 'add', 'extra.txt');
    const passed = await t.latheTry();
    assert.equal(passed.code, 0, passed.stdout + passed.stderr);
    assert.match(passed.stdout, /^app: success/m);
  });
});
