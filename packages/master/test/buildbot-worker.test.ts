// End to end, once against a stock Python buildbot-worker 3.7 and once against the Lathe
// worker (`@lathe/worker`): a Lathe master in this process, a real worker process, a real
// C project in a local git repository checked out by the Git step, built with make and
// tested with make test. Also: a failing build, a stopped build
// whose process must die, a worker killed mid-build (RETRY, then the request runs again
// once the worker is back), wrong passwords, a duplicate login, reconfig, pause and a
// shutdown from the master, and a reconfig while a build runs.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { connect, Referenceable, RemoteError } from '@lathe/pb';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { CANCELLED, FAILURE, RETRY, type Result, SKIPPED, SUCCESS, WARNINGS } from '../src/results.js';
import { type WorkerRuntime, withWorkers } from '../src/runtime.js';
import {
  alive,
  createWorker,
  type TestWorker,
  type WorkerKind,
  waitFor,
  workerAvailable,
} from './bbworker.js';
import { createProject } from './cproject.js';
import { startMaster, tempDir } from './helpers.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

/** What a reconfig while building changes: one builder's steps (`quick`, `steady`). */
interface Variant {
  readonly quick: string;
  readonly steady: string;
}
const FIRST: Variant = { quick: 'hello', steady: 'first config' };

function configText(repo: string, extraBuilder = '', variant: Variant = FIRST): string {
  return `import { buildFactory, defineConfig, git, makeDirectory, removeDirectory, shellCommand } from '${lathe}';
export default defineConfig({
  workers: [
    { name: 'w1', password: 'secret-1' },
    { name: 'w2', password: 'secret-2' },
  ],
  builders: [
    {
      name: 'cproject',
      workerNames: ['w1'],
      factory: buildFactory(
        git({ repourl: ${JSON.stringify(repo)} }),
        shellCommand({ name: 'compile', command: ['make'], haltOnFailure: true }),
        shellCommand({ name: 'test', command: 'make test', logfiles: { results: 'test-results.txt' } }),
      ),
    },
    {
      name: 'pinned',
      workerNames: ['w1'],
      factory: buildFactory(
        git({ repourl: ${JSON.stringify(repo)}, mode: 'full', method: 'fresh', workdir: 'src' }),
        makeDirectory({ dir: 'src/out' }),
        shellCommand({ name: 'ls', command: 'test -d out && git log -1 --format=%s', workdir: 'src' }),
        removeDirectory({ dir: 'src/out' }),
        shellCommand({ name: 'gone', command: 'test ! -d out', workdir: 'src' }),
        shellCommand({ name: 'too long', command: 'echo waiting; sleep 30', maxTime: 1, flunkOnFailure: false, warnOnFailure: true }),
      ),
    },
    {
      name: 'slow',
      workerNames: ['w1'],
      factory: buildFactory(
        shellCommand({ name: 'sleep', command: 'echo $$ > pid; echo started; exec sleep 60' }),
        shellCommand({ name: 'never', command: 'echo should not run' }),
        shellCommand({ name: 'cleanup', command: ['echo', 'cleaning up'], alwaysRun: true }),
      ),
    },
    {
      name: 'flaky',
      workerNames: ['w1'],
      factory: buildFactory(
        shellCommand({
          name: 'maybe-hang',
          command: 'if [ -f marker ]; then echo second run; exit 0; fi; touch marker; echo $$ > pid; exec sleep 60',
        }),
      ),
    },
    { name: 'quick', workerNames: ['w1'], factory: buildFactory(shellCommand({ name: 'echo', command: ['echo', ${JSON.stringify(variant.quick)}] })) },
    {
      name: 'steady',
      workerNames: ['w1'],
      factory: buildFactory(
        // Holds the build until the test creates "go" (at most 120 s), whatever the machine's speed.
        shellCommand({ name: 'hold', command: 'touch started; i=0; while [ ! -f go ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; test -f go' }),
        shellCommand({ name: 'say', command: ['echo', ${JSON.stringify(variant.steady)}] }),
      ),
    },
    { name: 'bulk', workerNames: ['w1'], factory: buildFactory(shellCommand({ name: 'seq', command: ['seq', '1', '200000'] })) },
    ${extraBuilder}
  ],
});
`;
}

const TITLES: Record<WorkerKind, string> = {
  stock: 'a stock buildbot-worker 3.7',
  lathe: 'a Lathe worker',
};
/** What each kind writes in its log when the master refuses its login. */
const REFUSED: Record<WorkerKind, string> = {
  stock: 'unauthorized login',
  lathe: "refused the login of worker 'w2'",
};

for (const kind of ['stock', 'lathe'] as const) scenarios(kind);

function scenarios(kind: WorkerKind): void {
  describe(`a Lathe master with ${TITLES[kind]}`, { skip: !workerAvailable(kind) }, () => {
    const dir = tempDir(`lathe-e2e-${kind}-`);
    const repo = join(dir.path, 'repo');
    const masterDir = join(dir.path, 'master');
    const workerDir = join(dir.path, 'worker');
    const configFile = join(masterDir, 'master.config.ts');
    let revs: { main: string; broken: string };
    let rt: WorkerRuntime;
    let master: Master;
    let worker: TestWorker;
    const strays: number[] = [];
    const errors: string[] = [];
    const portLog: string[] = [];

    before(async () => {
      revs = createProject(repo);
      mkdirSync(masterDir);
      writeFileSync(configFile, configText(repo));
      rt = withWorkers(
        { basedir: masterDir, name: 'e2e', onError: (err, ctx) => errors.push(`${ctx}: ${String(err)}`) },
        {
          port: 0,
          host: '127.0.0.1',
          duplicateTimeoutMs: 3000,
          logger: { info: (m) => portLog.push(m), warn: (m) => portLog.push(m) },
        },
      );
      master = await startMaster(rt.options);
      worker = createWorker(kind, workerDir, 'w1', 'secret-1', rt.server.port);
      worker.start();
      await waitFor(() => master.workers.get('w1')!.connected, 20_000, 'the worker to attach');
    });

    after(async () => {
      await worker?.kill();
      for (const pid of strays) if (alive(pid)) process.kill(pid, 'SIGKILL');
      await master?.stop();
      dir.cleanup();
    });

    const pidIn = (builder: string) => join(workerDir, builder, 'build', 'pid');

    async function stepResults(buildid: number): Promise<Record<string, Result | null>> {
      const steps = await master.data.steps.forBuild(buildid);
      return Object.fromEntries(steps.map((s) => [s.name, s.results]));
    }

    async function stepLog(buildid: number, step: string, log = 'stdio'): Promise<string[]> {
      const s = (await master.data.steps.forBuild(buildid)).find((x) => x.name === step);
      assert.ok(s, `step ${step}`);
      const l = (await master.data.logs.forStep(s.id)).find((x) => x.name === log);
      assert.ok(l, `log ${log} of step ${step}`);
      const row = (await master.data.logs.get(l.id))!;
      return master.data.logs.lines(l.id, 0, row.numLines - 1);
    }

    async function runToEnd(builder: string, extra: { branch?: string; revision?: string } = {}) {
      const { buildrequestid } = await forceBuild(master, { builder, repository: repo, ...extra });
      const request = await waitForRequest(master, buildrequestid, 60_000);
      const builds = await master.data.builds.forRequest(buildrequestid);
      return { request, builds, build: builds[builds.length - 1]! };
    }

    it('attaches with the Buildbot sequence and stores what the worker said about itself', async () => {
      const row = await master.data.workers.getByName('w1');
      assert.ok(row);
      assert.match(String(row.info.version), kind === 'stock' ? /^3\.7/ : /^\d+\.\d+\.\d+/);
      assert.ok((row.info.worker_commands as Record<string, string>).shell, 'shell among worker_commands');
      assert.equal(row.info.environ, undefined, 'the worker environment is not stored');
      // setBuilderList made the worker create one directory per builder.
      for (const b of ['cproject', 'pinned', 'slow', 'flaky', 'quick', 'steady', 'bulk'])
        assert.ok(existsSync(join(workerDir, b)), b);
      assert.deepEqual(await master.data.workers.connectedTo(master.masterid), [
        master.workers.get('w1')!.workerid,
      ]);
    });

    it('checks out, builds and tests a C project (clone), then fails the broken branch (fetch)', async () => {
      const ok = await runToEnd('cproject', { branch: 'main' });
      assert.equal(ok.build.results, SUCCESS, ok.build.stateString);
      assert.equal(ok.request.results, SUCCESS);
      assert.deepEqual(await stepResults(ok.build.id), { git: SUCCESS, compile: SUCCESS, test: SUCCESS });
      const props = await master.data.builds.properties(ok.build.id);
      assert.deepEqual(props.got_revision, [revs.main, 'Git']);
      assert.deepEqual(props.workername, ['w1', 'Worker']);
      const gitLog = await stepLog(ok.build.id, 'git');
      assert.ok(
        gitLog.some((l) => l.startsWith('h') && l.includes('git clone --branch main')),
        'cloned',
      );
      const testLog = await stepLog(ok.build.id, 'test');
      assert.ok(testLog.includes('ohello, world: 2+3=5'), testLog.join('\n'));
      assert.ok(testLog.includes('oall tests passed'));
      assert.ok(testLog.includes('hprogram finished with exit code 0'));
      assert.ok(
        (await stepLog(ok.build.id, 'test', 'results')).includes('oall tests passed'),
        'logfile streamed',
      );
      assert.ok(existsSync(join(workerDir, 'cproject', 'build', 'test_add')), 'built on the worker');

      const bad = await runToEnd('cproject', { branch: 'broken' });
      assert.equal(bad.build.results, FAILURE);
      assert.equal(bad.request.results, FAILURE);
      assert.deepEqual(await stepResults(bad.build.id), { git: SUCCESS, compile: SUCCESS, test: FAILURE });
      assert.deepEqual((await master.data.builds.properties(bad.build.id)).got_revision, [
        revs.broken,
        'Git',
      ]);
      const badGit = await stepLog(bad.build.id, 'git');
      assert.ok(
        badGit.some((l) => l.includes('git fetch -f -t')),
        'incremental update fetched',
      );
      const badTest = await stepLog(bad.build.id, 'test');
      assert.ok(badTest.includes('oFAIL 2+3: got -1, want 5'), badTest.join('\n'));
      assert.ok(badTest.some((l) => l.startsWith('hprogram finished with exit code 2')));
    });

    it('checks out a pinned revision in full/fresh mode twice, runs directory steps, enforces maxTime', async () => {
      const first = await runToEnd('pinned', { branch: 'broken', revision: revs.main });
      assert.equal(first.build.results, WARNINGS, first.build.stateString);
      assert.deepEqual(await stepResults(first.build.id), {
        git: SUCCESS,
        MakeDirectory: SUCCESS,
        ls: SUCCESS,
        RemoveDirectory: SUCCESS,
        gone: SUCCESS,
        'too long': FAILURE,
      });
      assert.deepEqual((await master.data.builds.properties(first.build.id)).got_revision, [
        revs.main,
        'Git',
      ]);
      assert.ok((await stepLog(first.build.id, 'ls')).includes('ohello with add'));
      const tooLong = await stepLog(first.build.id, 'too long');
      assert.ok(
        tooLong.some((l) => l.includes('command timed out: 1 seconds elapsed')),
        tooLong.join('\n'),
      );

      const second = await runToEnd('pinned', { branch: 'broken', revision: revs.main });
      const gitLog = await stepLog(second.build.id, 'git');
      assert.ok(
        gitLog.some((l) => l.startsWith('hgit clean -f -f -d -x')),
        'fresh cleans',
      );
      assert.ok(
        gitLog.some((l) => l.startsWith('hgit cat-file -e')),
        'known revision is not fetched again',
      );
      assert.ok(!gitLog.some((l) => l.startsWith('hgit fetch')));
      assert.deepEqual((await master.data.builds.properties(second.build.id)).got_revision, [
        revs.main,
        'Git',
      ]);
    });

    it('streams a large output into the log completely and in order', async () => {
      const { build } = await runToEnd('bulk');
      assert.equal(build.results, SUCCESS);
      const lines = (await stepLog(build.id, 'seq')).filter((l) => l.startsWith('o'));
      assert.equal(lines.length, 200_000);
      assert.equal(lines[0], 'o1');
      assert.equal(lines[123_456], 'o123457');
      assert.equal(lines[199_999], 'o200000');
      const props = await master.data.builds.properties(build.id);
      assert.deepEqual(props.workername, ['w1', 'Worker']);
      assert.equal(props.numcpus, undefined, 'what the worker says about itself is no build property');
    });

    it('stops a running build: the process dies, only alwaysRun steps follow, the build is CANCELLED', async () => {
      const { buildrequestid } = await forceBuild(master, { builder: 'slow' });
      await waitFor(() => existsSync(pidIn('slow')), 20_000, 'the slow command to start');
      const pid = Number(readFileSync(pidIn('slow'), 'utf8'));
      strays.push(pid);
      assert.ok(alive(pid));
      const [running] = rt.runner.running().filter((b) => b.buildrequestid === buildrequestid);
      assert.ok(running);
      assert.equal(running.currentStep, 'sleep');
      assert.ok(rt.runner.stopBuild(running.buildid, 'stopped by the test'));
      assert.equal(await running.finished, CANCELLED);
      await waitFor(() => !alive(pid), 5000, `process ${pid} to die`);
      const request = await waitForRequest(master, buildrequestid, 10_000);
      assert.equal(request.results, CANCELLED);
      assert.deepEqual(await stepResults(running.buildid), { sleep: CANCELLED, cleanup: SUCCESS });
      const log = await stepLog(running.buildid, 'sleep');
      assert.ok(
        log.some((l) => l.includes('command interrupted')),
        log.join('\n'),
      );
    });

    it('retries a build whose worker died, and runs the request again once the worker is back', async () => {
      const { buildrequestid } = await forceBuild(master, { builder: 'flaky' });
      await waitFor(() => existsSync(pidIn('flaky')), 20_000, 'the flaky command to start');
      const pid = Number(readFileSync(pidIn('flaky'), 'utf8'));
      strays.push(pid);
      await worker.kill('SIGKILL');
      await waitFor(
        async () => (await master.data.builds.forRequest(buildrequestid))[0]?.results === RETRY,
        10_000,
        'the build to end RETRY',
      );
      const pending = await master.data.buildrequests.get(buildrequestid);
      assert.equal(pending?.complete, false);
      assert.equal(pending?.claimedByMaster, null, 'the request was given back');
      assert.equal(master.workers.get('w1')!.connected, false);
      // The dead worker's command is an orphan now; it is not the master's to reap.
      process.kill(pid, 'SIGKILL');

      worker.start();
      const request = await waitForRequest(master, buildrequestid, 30_000);
      assert.equal(request.results, SUCCESS);
      const builds = await master.data.builds.forRequest(buildrequestid);
      assert.deepEqual(
        builds.map((b) => b.results),
        [RETRY, SUCCESS],
      );
      assert.ok((await stepLog(builds[1]!.id, 'maybe-hang')).includes('osecond run'));
    });

    it('refuses wrong passwords: the worker keeps failing, a PB client gets UnauthorizedLogin', async () => {
      const badDir = join(dir.path, 'bad-worker');
      const bad = createWorker(kind, badDir, 'w2', 'not-the-password', rt.server.port);
      bad.start();
      try {
        await waitFor(() => bad.log().includes(REFUSED[kind]), 20_000, 'the login to be refused');
        assert.equal(master.workers.get('w2')!.connected, false);
      } finally {
        await bad.kill();
      }
      const conn = await connect({ host: '127.0.0.1', port: rt.server.port });
      try {
        await assert.rejects(conn.login('w1', 'wrong'), (err: unknown) => {
          assert.ok(err instanceof RemoteError);
          assert.equal(err.remoteType, 'twisted.cred.error.UnauthorizedLogin');
          return true;
        });
        await assert.rejects(conn.login('nobody', 'x'), RemoteError);
      } finally {
        conn.close();
      }
      assert.equal(master.workers.get('w1')!.connected, true, 'the real w1 is untouched');
      assert.ok(portLog.some((l) => l.includes('refused login as "w2"')));
      assert.ok(!portLog.some((l) => /secret|not-the-password|wrong/.test(l)), 'no password in the log');
    });

    it('refuses a second connection for a worker whose connection is alive', async () => {
      const conn = await connect({ host: '127.0.0.1', port: rt.server.port });
      const printed: string[] = [];
      class Bot extends Referenceable {
        remote_print(...args: unknown[]) {
          printed.push(String(args));
        }
      }
      try {
        await assert.rejects(conn.login('w1', 'secret-1', new Bot()), (err: unknown) => {
          assert.ok(err instanceof RemoteError);
          assert.equal(err.remoteType, 'builtins.RuntimeError');
          assert.equal(err.remoteValue, 'rejecting duplicate worker');
          return true;
        });
      } finally {
        conn.close();
      }
      assert.deepEqual(printed, [], 'the newcomer was never attached');
      assert.ok(worker.log().includes('master got a duplicate connection'), 'the old connection was asked');
      assert.equal(master.workers.get('w1')!.connected, true);
    });

    it('sends a new builder list on reconfig, holds builds while paused', async () => {
      writeFileSync(
        configFile,
        configText(
          repo,
          `{ name: 'added later', workerNames: ['w1'], factory: buildFactory(shellCommand({ command: 'true' })) },`,
        ),
      );
      const result = await master.reconfig();
      assert.ok(result.ok);
      await waitFor(() => existsSync(join(workerDir, 'added_later')), 10_000, 'the new builder directory');

      const w1 = master.workers.get('w1')!;
      await w1.pause();
      assert.equal((await master.data.workers.getByName('w1'))?.paused, true);
      const { buildrequestid } = await forceBuild(master, { builder: 'added later' });
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(await master.data.builds.forRequest(buildrequestid), [], 'no build while paused');
      await w1.unpause();
      const request = await waitForRequest(master, buildrequestid, 20_000);
      assert.equal(request.results, SUCCESS);
      assert.notEqual(request.results, SKIPPED);
    });

    it('reconfigures while a build runs: a broken config is refused, then the build finishes with its old steps, the worker stays, a new builder appears', async () => {
      const addedLater = `{ name: 'added later', workerNames: ['w1'], factory: buildFactory(shellCommand({ command: 'true' })) },`;
      const building = join(workerDir, 'steady', 'build');
      const w1 = master.workers.get('w1')!;
      const workerEvents: string[] = [];
      const sub = master.bus.subscribe('worker.#', (msg) => {
        workerEvents.push(msg.kind);
      });
      try {
        const { buildrequestid } = await forceBuild(master, { builder: 'steady' });
        await waitFor(() => existsSync(join(building, 'started')), 30_000, 'the steady build to start');
        const [running] = rt.runner.running().filter((b) => b.buildrequestid === buildrequestid);
        assert.ok(running);

        // A broken config first: refused with file and line, and nothing changes.
        const good = readFileSync(configFile, 'utf8');
        const broken = good.replace("name: 'quick',", "name: 'quick',,");
        assert.notEqual(broken, good);
        writeFileSync(configFile, broken);
        const brokenLine = broken.split('\n').findIndex((l) => l.includes("name: 'quick',,")) + 1;
        const refused = await master.reconfig();
        assert.ok(!refused.ok, 'a broken config is refused');
        assert.ok(
          refused.error.message.includes(`${configFile}:${brokenLine}: syntax error`),
          refused.error.message,
        );
        assert.ok(
          rt.runner.running().some((b) => b.buildid === running.buildid),
          'still running after a refused reconfig',
        );
        assert.equal(w1.connected, true);

        writeFileSync(
          configFile,
          configText(
            repo,
            `${addedLater}
    { name: 'added while building', workerNames: ['w1'], factory: buildFactory(shellCommand({ command: 'true' })) },`,
            { quick: 'changed by reconfig', steady: 'second config' },
          ),
        );
        const result = await master.reconfig();
        assert.ok(result.ok, result.ok ? '' : String(result.error));
        assert.deepEqual(result.builders.added, ['added while building']);
        assert.deepEqual([...result.builders.reconfigured, ...result.builders.replaced].sort(), [
          'quick',
          'steady',
        ]);
        await waitFor(
          () => existsSync(join(workerDir, 'added_while_building')),
          20_000,
          'setBuilderList to create the new builder directory',
        );
        assert.ok(
          rt.runner.running().some((b) => b.buildid === running.buildid),
          'still running after reconfig',
        );

        writeFileSync(join(building, 'go'), '');
        assert.equal(await running.finished, SUCCESS);
        const request = await waitForRequest(master, buildrequestid, 20_000);
        assert.equal(request.results, SUCCESS);
        assert.deepEqual(await stepResults(running.buildid), { hold: SUCCESS, say: SUCCESS });
        assert.ok(
          (await stepLog(running.buildid, 'say')).includes('ofirst config'),
          'a running build keeps the steps it started with',
        );
        assert.equal(w1.connected, true);

        const quick = await runToEnd('quick');
        assert.equal(quick.build.results, SUCCESS);
        assert.ok((await stepLog(quick.build.id, 'echo')).includes('ochanged by reconfig'));
        const added = await runToEnd('added while building');
        assert.equal(added.build.results, SUCCESS);
        const next = await runToEnd('steady');
        // "go" is still there, so this one does not wait.
        assert.ok((await stepLog(next.build.id, 'say')).includes('osecond config'));
        assert.deepEqual(
          workerEvents.filter((k) => k === 'worker.connected' || k === 'worker.disconnected'),
          [],
          'the worker never reconnected',
        );
      } finally {
        sub.unsubscribe();
      }
    });

    it('cancels and records the running build of a builder a reconfig removes; the worker stays', async () => {
      const full = configText(repo);
      writeFileSync(configFile, full);
      assert.ok((await master.reconfig()).ok, 'back to the first config (earlier tests added builders)');
      rmSync(pidIn('slow'), { force: true });
      const { buildrequestid } = await forceBuild(master, { builder: 'slow' });
      await waitFor(() => existsSync(pidIn('slow')), 20_000, 'the slow command to start');
      const pid = Number(readFileSync(pidIn('slow'), 'utf8'));
      strays.push(pid);
      const [running] = rt.runner.running().filter((b) => b.buildrequestid === buildrequestid);
      assert.ok(running);

      const withoutSlow = full.replace(/ {4}\{\n {6}name: 'slow',[\s\S]*?\n {4}\},\n/, '');
      assert.notEqual(withoutSlow, full);
      writeFileSync(configFile, withoutSlow);
      try {
        const result = await master.reconfig();
        assert.ok(result.ok, result.ok ? '' : String(result.error));
        assert.deepEqual(result.builders.removed, ['slow']);
        let timer: NodeJS.Timeout | undefined;
        const ended = await Promise.race([
          running.finished,
          new Promise((r) => {
            timer = setTimeout(() => r('still building 30 s after the reconfig'), 30_000);
          }),
        ]);
        clearTimeout(timer);
        assert.equal(ended, CANCELLED);
        await waitFor(() => !alive(pid), 5000, `process ${pid} to die`);
        const request = await waitForRequest(master, buildrequestid, 10_000);
        assert.equal(request.results, CANCELLED);
        assert.deepEqual(await stepResults(running.buildid), { sleep: CANCELLED, cleanup: SUCCESS });
        const build = await master.data.builds.get(running.buildid);
        assert.match(build?.stateString ?? '', /builder slow removed by reconfig/);
        assert.equal(master.workers.get('w1')!.connected, true);
        assert.deepEqual(rt.runner.running(), []);
      } finally {
        writeFileSync(configFile, full);
        const restored = await master.reconfig();
        assert.ok(restored.ok);
      }
      assert.equal((await runToEnd('quick')).build.results, SUCCESS, 'the worker still builds');
    });

    it('shuts the worker down from the master once it is idle', async () => {
      const w1 = master.workers.get('w1')!;
      await w1.shutdown({ graceful: true });
      await worker.exited(10_000);
      await waitFor(() => !w1.connected, 5000, 'the worker to detach');
      assert.deepEqual(errors, []);
    });
  });
}
