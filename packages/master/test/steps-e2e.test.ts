// The steps and the toolkit wired into real builds, against a stock Python buildbot-worker
// 3.7: properties with sources and renderables, secrets rendered for the worker and
// redacted from every log (the worker's command echo and environment dump included),
// compile warnings, test result parsing, property steps, all four file transfers on real
// files, a master-side command, step flags, metrics and the ETA, build and step locks under
// contention with cancellation, and the custom step from examples/steps.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { forceBuild, waitForRequest } from '../src/build/control.js';
import type { BusEvents } from '../src/bus/events.js';
import { Master } from '../src/master.js';
import { CANCELLED, FAILURE, RETRY, type Result, SKIPPED, SUCCESS, WARNINGS } from '../src/results.js';
import { type WorkerRuntime, withWorkers } from '../src/runtime.js';
import { alive, StockWorker, stockWorkerAvailable, waitFor } from './bbworker.js';
import { tempDir } from './helpers.js';
import { LatheWorker } from './lathe-worker.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const artifactSize = pathToFileURL(
  join(import.meta.dirname, '..', '..', '..', '..', 'examples', 'dist', 'steps', 'artifact-size.js'),
).href;

const TOKEN = 'tok-8c1f0e5d93b2';
const C_SOURCE =
  '#include <stdio.h>\nint main(void) { int unused; printf("answer %(prop:answer)s\\n"); return 0; }\n';
const PY_TESTS = [
  'import unittest',
  'class T(unittest.TestCase):',
  '    def test_one(self): self.assertEqual(1 + 1, 2)',
  '    def test_two(self): self.assertTrue(True)',
  "    @unittest.skip('not today')",
  '    def test_three(self): pass',
  '',
].join('\n');
const JUNIT =
  '<?xml version="1.0"?>\n<testsuite name="s" tests="3"><testcase name="a"/><testcase name="b"><failure message="boom"/></testcase><testcase name="c"/></testsuite>';

function configText(): string {
  return `import { buildFactory, compile, defineConfig, directoryUpload, fileDownload, fileUpload, interpolate, masterLock,
  masterShellCommand, secret, setProperty, setPropertyFromCommand, shellCommand, StaticSecretProvider, stringDownload, test, trigger } from '${lathe}';
import { ArtifactSize } from '${artifactSize}';
const deploy = masterLock('deploy');
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1', properties: { arch: 'x86' } }],
  properties: { greeting: 'hi', arch: 'global-loses' },
  secretsProviders: [new StaticSecretProvider({ token: ${JSON.stringify(TOKEN)} })],
  builders: [
    {
      name: 'wired',
      workerNames: ['w1'],
      properties: { jobs: 2 },
      factory: buildFactory(
        setProperty({ property: 'flavour', value: interpolate('%(prop:greeting)s-%(prop:buildername)s-%(prop:jobs)s') }),
        setPropertyFromCommand({ command: ['sh', '-c', 'echo 42'], property: 'answer' }),
        stringDownload({ s: interpolate(${JSON.stringify(C_SOURCE)}), workerdest: 'main.c' }),
        compile({ command: ['cc', '-Wall', '-o', 'main', 'main.c'] }),
        new ArtifactSize({ file: 'main', maxBytes: 100 }),
        shellCommand({
          name: 'use-secret',
          command: interpolate('echo token=%(secret:token)s; echo %(secret:token)s > token.txt; ./main'),
          env: { TOKEN: secret('token') },
        }),
        stringDownload({ name: 'tests-file', s: ${JSON.stringify(PY_TESTS)}, workerdest: 'test_x.py', mode: 0o600 }),
        test({ name: 'unittest', format: 'unittest', command: ['python3', '-m', 'unittest', '-v', 'test_x'] }),
        fileDownload({ mastersrc: 'input.txt', workerdest: 'in/input.txt', mode: 0o640 }),
        shellCommand({ name: 'cat-input', command: 'cat in/input.txt && stat -c %a in/input.txt' }),
        shellCommand({ name: 'make-tree', command: 'mkdir -p tree/sub && echo one > tree/a.txt && echo two > tree/sub/b.txt' }),
        fileUpload({ workersrc: 'main.c', masterdest: interpolate('uploads/%(prop:buildnumber)s/main.c'), mode: 0o644, keepstamp: true }),
        directoryUpload({ workersrc: 'tree', masterdest: 'uploads/tree', compress: 'gz' }),
        fileUpload({ name: 'upload-missing', workersrc: 'nope.bin', masterdest: 'uploads/nope.bin', flunkOnFailure: false, warnOnFailure: true }),
        masterShellCommand({ command: interpolate('echo built %(prop:flavour)s > master-out.txt; echo secret is %(secret:token)s') }),
        shellCommand({ name: 'optional', command: 'echo never', doStepIf: () => false, hideStepIf: (r) => r === ${SKIPPED} }),
        stringDownload({ name: 'junit-file', s: ${JSON.stringify(JUNIT)}, workerdest: 'report.tmpl' }),
        test({
          name: 'junit',
          format: 'junit',
          // The "runner": it writes its report file and exits 0 although a test failed.
          command: ['cp', 'report.tmpl', 'report.xml'],
          resultsFile: 'report.xml',
          haltOnFailure: true,
        }),
        shellCommand({ name: 'after-halt', command: 'echo should not run' }),
        shellCommand({ name: 'cleanup', command: 'echo cleaning', alwaysRun: true }),
      ),
    },
    {
      name: 'holder',
      workerNames: ['w1'],
      locks: [deploy.access('exclusive')],
      factory: buildFactory(shellCommand({ name: 'hold', command: 'echo $$ > pid; echo holding; exec sleep 60' })),
    },
    {
      name: 'waiter',
      workerNames: ['w1'],
      locks: [deploy.access('exclusive')],
      factory: buildFactory(shellCommand({ name: 'go', command: 'echo got the lock' })),
    },
    {
      name: 'steplock',
      workerNames: ['w1'],
      factory: buildFactory(
        shellCommand({ name: 'free', command: 'echo no lock needed' }),
        shellCommand({ name: 'locked', command: 'echo locked', locks: [deploy.access('exclusive')] }),
      ),
    },
    {
      name: 'on-master',
      workerNames: ['w1'],
      factory: buildFactory(
        shellCommand({ name: 'silent', command: 'sleep 30', timeout: 1, flunkOnFailure: false, warnOnFailure: true }),
        masterShellCommand({ name: 'too-long', command: 'echo $$ > slow.pid; exec sleep 60', maxTime: 1, flunkOnFailure: false }),
        masterShellCommand({ name: 'stoppable', command: 'echo $$ > stop.pid; echo started; exec sleep 60' }),
      ),
    },
    {
      name: 'parent',
      workerNames: ['w1'],
      factory: buildFactory(
        setProperty({ property: 'colour', value: 'blue' }),
        trigger({ builderNames: ['child'], waitForFinish: true, copyProperties: ['colour'], setProperties: { size: interpolate('%(prop:buildnumber)s-big') } }),
        trigger({ name: 'fire-and-forget', builderNames: ['child'], setProperties: { fail: true } }),
      ),
    },
    {
      name: 'child',
      workerNames: ['w1'],
      factory: buildFactory(
        shellCommand({ name: 'show', command: interpolate('echo colour=%(prop:colour)s size=%(prop:size)s; test -z "%(prop:fail:-)s"') }),
      ),
    },
    {
      name: 'parent-stop',
      workerNames: ['w1'],
      factory: buildFactory(trigger({ builderNames: ['child-slow'], waitForFinish: true })),
    },
    {
      name: 'child-slow',
      workerNames: ['w1'],
      factory: buildFactory(shellCommand({ name: 'slow', command: 'echo $$ > pid; exec sleep 60' })),
    },
    {
      name: 'eta',
      workerNames: ['w1'],
      factory: buildFactory(shellCommand({ name: 'nap', command: 'for i in 1 2 3 4; do echo $i; sleep 0.5; done' })),
    },
  ],
});
`;
}

const PEERS = [
  {
    title: 'a stock buildbot-worker 3.7',
    available: stockWorkerAvailable(),
    make: (dir: string, port: number) => new StockWorker(dir, 'w1', 'pw-1', port),
  },
  {
    title: "Lathe's worker",
    available: true,
    make: (dir: string, port: number) => new LatheWorker(dir, 'w1', 'pw-1', port),
  },
];

for (const peer of PEERS) {
  describe(`steps and the toolkit in builds on ${peer.title}`, { skip: !peer.available }, () => {
    const dir = tempDir('lathe-steps-');
    const masterDir = join(dir.path, 'master');
    const workerDir = join(dir.path, 'worker');
    let rt: WorkerRuntime;
    let master: Master;
    let worker: StockWorker | LatheWorker;
    const errors: string[] = [];

    before(async () => {
      mkdirSync(masterDir);
      writeFileSync(join(masterDir, 'master.config.ts'), configText());
      writeFileSync(join(masterDir, 'input.txt'), 'from the master\n');
      rt = withWorkers(
        { basedir: masterDir, name: 'steps', onError: (err, ctx) => errors.push(`${ctx}: ${String(err)}`) },
        { port: 0, host: '127.0.0.1' },
      );
      master = await Master.start(rt.options);
      worker = peer.make(workerDir, rt.server.port);
      worker.start();
      await waitFor(() => master.workers.get('w1')!.connected, 20_000, 'the worker to attach');
    });

    after(async () => {
      await worker?.kill();
      const pid = join(workerDir, 'holder', 'build', 'pid');
      if (existsSync(pid)) {
        const n = Number(readFileSync(pid, 'utf8'));
        if (alive(n)) process.kill(n, 'SIGKILL');
      }
      await master?.stop();
      dir.cleanup();
    });

    async function steps(buildid: number) {
      return master.data.steps.forBuild(buildid);
    }

    async function stepLog(buildid: number, step: string, log = 'stdio'): Promise<string> {
      const s = (await steps(buildid)).find((x) => x.name === step);
      assert.ok(s, `step ${step}`);
      const l = (await master.data.logs.forStep(s.id)).find((x) => x.name === log);
      assert.ok(l, `log ${log} of step ${step}`);
      const row = (await master.data.logs.get(l.id))!;
      return (await master.data.logs.lines(l.id, 0, row.numLines - 1)).join('\n');
    }

    async function allLogs(buildid: number): Promise<string> {
      let out = '';
      for (const s of await steps(buildid)) {
        for (const l of await master.data.logs.forStep(s.id)) {
          const row = (await master.data.logs.get(l.id))!;
          if (row.numLines > 0) out += (await master.data.logs.lines(l.id, 0, row.numLines - 1)).join('\n');
        }
      }
      return out;
    }

    async function buildOf(buildrequestid: number) {
      await waitFor(
        async () => (await master.data.builds.forRequest(buildrequestid)).length > 0,
        20_000,
        'the build to start',
      );
      return (await master.data.builds.forRequest(buildrequestid)).at(-1)!;
    }

    async function runToEnd(builder: string) {
      const { buildrequestid } = await forceBuild(master, { builder });
      await waitForRequest(master, buildrequestid, 60_000);
      const build = (await master.data.builds.forRequest(buildrequestid)).at(-1)!;
      return build;
    }

    it('runs every new step on real files, renders properties and secrets, and redacts secrets', async () => {
      const build = await runToEnd('wired');
      const results = Object.fromEntries((await steps(build.id)).map((s) => [s.name, s.results]));
      assert.deepEqual(results, {
        SetProperty: SUCCESS,
        setproperty: SUCCESS,
        string_download: SUCCESS,
        compile: WARNINGS,
        'artifact size': WARNINGS,
        'use-secret': SUCCESS,
        'tests-file': SUCCESS,
        unittest: SUCCESS,
        download: SUCCESS,
        'cat-input': SUCCESS,
        'make-tree': SUCCESS,
        upload: SUCCESS,
        upload_2: SUCCESS,
        'upload-missing': FAILURE,
        MasterShellCommand: SUCCESS,
        optional: SKIPPED,
        'junit-file': SUCCESS,
        junit: FAILURE,
        cleanup: SUCCESS,
      } satisfies Record<string, Result>);
      assert.equal(build.results, FAILURE, build.stateString);

      const props = await master.data.builds.properties(build.id);
      // Sources as in Buildbot: the worker's own property beats the global one of that name.
      assert.deepEqual(props.greeting, ['hi', 'Global']);
      assert.deepEqual(props.arch, ['x86', 'Worker']);
      assert.deepEqual(props.jobs, [2, 'Builder']);
      assert.deepEqual(props.flavour, ['hi-wired-2', 'SetProperty']);
      assert.deepEqual(props.answer, ['42', 'SetPropertyFromCommand Step']);
      assert.deepEqual(props['warnings-count'], [1, 'WarningCountingShellCommand']);
      assert.deepEqual(props['artifact-size']?.[1], 'artifact size');
      // Each test step sets the counts; the later step's win, the metrics keep both.
      assert.deepEqual(props['tests-passed'], [2, 'junit']);
      assert.deepEqual(props['tests-failed'], [1, 'junit']);
      assert.deepEqual(props['tests-total'], [3, 'junit']);

      // The worker got the real secret (it wrote it to a file), the logs only the mask.
      const builddir = join(workerDir, 'wired', 'build');
      assert.equal(readFileSync(join(builddir, 'token.txt'), 'utf8'), `${TOKEN}\n`);
      const secretLog = await stepLog(build.id, 'use-secret');
      assert.ok(secretLog.includes('otoken=<secret>'), secretLog);
      assert.ok(/TOKEN=<secret>/.test(secretLog), 'environment dump redacted');
      assert.ok(secretLog.includes('oanswer 42'), 'the compiled program, built from the rendered source');
      const everything = await allLogs(build.id);
      assert.ok(!everything.includes(TOKEN), 'the secret appears in no log');
      assert.ok((await stepLog(build.id, 'MasterShellCommand')).includes('osecret is <secret>'));
      assert.equal(readFileSync(join(masterDir, 'master-out.txt'), 'utf8'), 'built hi-wired-2\n');

      // Compile warnings: listed in their own log.
      assert.match(await stepLog(build.id, 'compile', 'warnings (1)'), /unused variable/);
      // Test parsing: unittest from stdout/stderr, JUnit from a report file on the worker.
      assert.equal(await stepLog(build.id, 'junit', 'failed tests'), 'ob');
      // Transfers, content and modes.
      assert.equal(readFileSync(join(builddir, 'in', 'input.txt'), 'utf8'), 'from the master\n');
      assert.ok((await stepLog(build.id, 'cat-input')).includes('o640'), 'download mode applied');
      const uploaded = join(masterDir, 'uploads', String(build.number), 'main.c');
      assert.equal(readFileSync(uploaded, 'utf8'), readFileSync(join(builddir, 'main.c'), 'utf8'));
      assert.equal(statSync(uploaded).mode & 0o777, 0o644);
      assert.equal(
        Math.floor(statSync(uploaded).mtimeMs / 1000),
        Math.floor(statSync(join(builddir, 'main.c')).mtimeMs / 1000),
        'keepstamp',
      );
      assert.equal(readFileSync(join(masterDir, 'uploads', 'tree', 'a.txt'), 'utf8'), 'one\n');
      assert.equal(readFileSync(join(masterDir, 'uploads', 'tree', 'sub', 'b.txt'), 'utf8'), 'two\n');
      assert.ok(!existsSync(join(masterDir, 'uploads', 'nope.bin')), 'a failed upload leaves nothing');

      // Flags: the halted step never started, the skipped one is hidden.
      const all = await steps(build.id);
      assert.ok(!all.some((s) => s.name === 'after-halt'));
      assert.equal(all.find((s) => s.name === 'optional')?.hidden, true);
      assert.equal(all.find((s) => s.name === 'compile')?.hidden, false);

      const metrics = await master.data.metrics.forBuild(build.id);
      assert.equal(metrics.warnings, 1);
      assert.equal(metrics['step:compile:warnings'], 1);
      assert.equal(metrics['step:unittest:tests.passed'], 2);
      assert.equal(metrics['step:unittest:tests.skipped'], 1);
      assert.equal(metrics['step:unittest:tests.failed'], 0);
      assert.equal(metrics['tests.passed'], 2 + 2);
      assert.equal(metrics['tests.failed'], 1);
      assert.equal(metrics['artifact.size_bytes'], statSync(join(builddir, 'main')).size);
      assert.ok(metrics['build.duration_s'] !== undefined);
      assert.ok(metrics['step:compile:duration_s'] !== undefined);
      assert.deepEqual(errors, []);
    });

    it('makes a second build wait for a lock, cancels waiting builds and steps, and hands the lock on', async () => {
      const held = await forceBuild(master, { builder: 'holder' });
      const holder = await buildOf(held.buildrequestid);
      await waitFor(() => existsSync(join(workerDir, 'holder', 'build', 'pid')), 20_000, 'the holder to run');

      // A build lock: the waiter shows it waits and never starts a step.
      const first = await forceBuild(master, { builder: 'waiter' });
      const waiting = await buildOf(first.buildrequestid);
      await waitFor(
        async () => (await master.data.builds.get(waiting.id))?.stateString === 'waiting for locks',
        20_000,
        'the waiter to wait',
      );
      assert.equal(master.locks.waiting().length, 1);
      assert.ok(rt.runner.stopBuild(waiting.id, 'not needed'));
      await waitForRequest(master, first.buildrequestid, 20_000);
      assert.equal((await master.data.builds.get(waiting.id))?.results, CANCELLED);
      assert.deepEqual(await steps(waiting.id), [], 'no step ran without the lock');
      assert.equal(master.locks.waiting().length, 0, 'the cancelled request left the queue');

      // A step lock: the first step runs, the locked one waits, and a stop ends the wait.
      const sl = await forceBuild(master, { builder: 'steplock' });
      const steplock = await buildOf(sl.buildrequestid);
      await waitFor(
        async () =>
          (await steps(steplock.id)).some(
            (s) => s.name === 'locked' && s.stateString === 'waiting for locks',
          ),
        20_000,
        'the locked step to wait',
      );
      assert.equal((await steps(steplock.id)).find((s) => s.name === 'free')?.results, SUCCESS);
      rt.runner.stopBuild(steplock.id);
      await waitForRequest(master, sl.buildrequestid, 20_000);
      assert.equal((await master.data.builds.get(steplock.id))?.results, CANCELLED);
      assert.equal((await steps(steplock.id)).find((s) => s.name === 'locked')?.results, CANCELLED);

      // Another waiter; cancelling the holder (mid-command) releases the lock to it.
      const second = await forceBuild(master, { builder: 'waiter' });
      const next = await buildOf(second.buildrequestid);
      await waitFor(
        async () => (await master.data.builds.get(next.id))?.stateString === 'waiting for locks',
        20_000,
        'the second waiter to wait',
      );
      rt.runner.stopBuild(holder.id);
      await waitForRequest(master, held.buildrequestid, 20_000);
      assert.equal((await master.data.builds.get(holder.id))?.results, CANCELLED);
      await waitForRequest(master, second.buildrequestid, 20_000);
      assert.equal((await master.data.builds.get(next.id))?.results, SUCCESS);
      assert.ok((await stepLog(next.id, 'go')).includes('ogot the lock'));
      assert.equal(master.locks.waiting().length, 0);
    });

    it('times out a silent worker command; kills a master-side command after maxTime and on a stop', async () => {
      const { buildrequestid } = await forceBuild(master, { builder: 'on-master' });
      const build = await buildOf(buildrequestid);
      const stopPid = join(masterDir, 'stop.pid');
      await waitFor(
        () => existsSync(stopPid) && readFileSync(stopPid, 'utf8').endsWith('\n'),
        20_000,
        'the second command',
      );
      const slow = Number(readFileSync(join(masterDir, 'slow.pid'), 'utf8'));
      assert.ok(!alive(slow), 'maxTime killed the first command');
      const stoppable = Number(readFileSync(stopPid, 'utf8'));
      assert.ok(alive(stoppable));
      rt.runner.stopBuild(build.id, 'enough');
      await waitForRequest(master, buildrequestid, 20_000);
      await waitFor(() => !alive(stoppable), 5_000, 'the stopped command to die');
      const results = Object.fromEntries((await steps(build.id)).map((s) => [s.name, s.results]));
      assert.deepEqual(results, { silent: FAILURE, 'too-long': FAILURE, stoppable: CANCELLED });
      // The worker enforces a step's `timeout` (seconds without output).
      assert.match(await stepLog(build.id, 'silent'), /command timed out: 1 seconds without output/);
      assert.match(await stepLog(build.id, 'too-long'), /command killed: maxTime 1s exceeded/);
      assert.equal((await master.data.builds.get(build.id))?.results, CANCELLED);
      rmSync(stopPid);
    });

    it('triggers builds with copied and set properties, waits for them, and cancels them when stopped', async () => {
      const parent = await runToEnd('parent');
      assert.equal(parent.results, SUCCESS, parent.stateString);
      const log = await stepLog(parent.id, 'trigger', 'triggered builds');
      const m = /child: build request (\d+): success/.exec(log);
      assert.ok(m, log);
      const childBuild = (await master.data.builds.forRequest(Number(m[1]))).at(-1)!;
      assert.ok((await stepLog(childBuild.id, 'show')).includes(`ocolour=blue size=${parent.number}-big`));
      const childProps = await master.data.builds.properties(childBuild.id);
      assert.deepEqual(childProps.colour, ['blue', 'Buildset']);

      // Not waited for: the parent succeeded although this child fails.
      const childBuilder = master.builders.get('child')!.builderid;
      const forgotten = async () =>
        (await master.data.builds.latestForBuilder(childBuilder, 10)).find((b) => b.id !== childBuild.id);
      await waitFor(async () => (await forgotten())?.results != null, 20_000, 'the fire-and-forget child');
      assert.equal((await forgotten())?.results, FAILURE);

      const { buildrequestid } = await forceBuild(master, { builder: 'parent-stop' });
      const stopping = await buildOf(buildrequestid);
      const pidFile = join(workerDir, 'child-slow', 'build', 'pid');
      await waitFor(
        () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'),
        20_000,
        'the child to run',
      );
      rt.runner.stopBuild(stopping.id, 'not today');
      await waitForRequest(master, buildrequestid, 20_000);
      assert.equal((await master.data.builds.get(stopping.id))?.results, CANCELLED);
      await waitFor(
        () => !rt.runner.running().some((b) => b.builder === 'child-slow'),
        20_000,
        'the triggered build to be stopped',
      );
      const slow = (
        await master.data.builds.latestForBuilder(master.builders.get('child-slow')!.builderid, 1)
      )[0];
      assert.equal(slow?.results, CANCELLED);
      await waitFor(() => !alive(Number(readFileSync(pidFile, 'utf8'))), 10_000, 'the child process to die');
    });

    it('estimates the running build from earlier ones and exposes it in running() and on the bus', async () => {
      for (let i = 0; i < 2; i++) assert.equal((await runToEnd('eta')).results, SUCCESS);
      const published: BusEvents['build.eta'][] = [];
      const sub = master.bus.subscribe('build.eta.#', (m) => {
        published.push(m.payload);
      });
      const { buildrequestid } = await forceBuild(master, { builder: 'eta' });
      const build = await buildOf(buildrequestid);
      let seen: { buildRemainingS?: number; progress?: number } | null = null;
      await waitFor(
        () => {
          const eta = rt.runner.get(build.id)?.eta;
          if (eta?.buildRemainingS !== undefined) seen = eta;
          return seen !== null;
        },
        20_000,
        'an ETA',
      );
      await waitForRequest(master, buildrequestid, 20_000);
      await master.bus.idle();
      sub.unsubscribe();
      const eta = seen as unknown as { buildRemainingS: number; progress: number };
      assert.ok(eta.buildRemainingS >= 0 && eta.buildRemainingS < 30, String(eta.buildRemainingS));
      assert.ok(eta.progress >= 0 && eta.progress <= 1);
      // On the bus: when the step starts, as its output comes (at most once a second) and
      // when it ends; the last one says the build is about done.
      const mine = published.filter((e) => e.buildid === build.id);
      const [nap] = await steps(build.id);
      assert.ok(mine.length >= 2, JSON.stringify(published));
      assert.equal(mine[0]!.stepid, nap!.id);
      assert.ok(mine[0]!.stepEta !== null && mine[0]!.buildEta > build.startedAt);
      assert.equal(mine.at(-1)!.stepid, null);
      assert.ok(mine.at(-1)!.progress! > 0.9, JSON.stringify(mine.at(-1)));
      assert.ok(mine.every((e) => e.builderid === build.builderid && e.number === build.number));
    });

    it('releases a build lock when the worker is lost mid-build (last: it takes the worker away)', async () => {
      const released: string[] = [];
      const off = master.locks.subscribe((e) => {
        if (e.type === 'released') released.push(e.owner);
      });
      try {
        const pidFile = join(workerDir, 'holder', 'build', 'pid');
        rmSync(pidFile, { force: true });
        const held = await forceBuild(master, { builder: 'holder' });
        const holder = await buildOf(held.buildrequestid);
        await waitFor(
          () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'),
          20_000,
          'the holder to run',
        );
        const sleeper = Number(readFileSync(pidFile, 'utf8'));
        await worker.kill();
        // The command's process outlives a SIGKILLed worker; it is this test's to end.
        if (alive(sleeper)) process.kill(sleeper, 'SIGKILL');
        await waitFor(
          async () => (await master.data.builds.get(holder.id))?.results === RETRY,
          20_000,
          'RETRY',
        );
        assert.deepEqual(released, [`build ${holder.number} of holder`]);
        assert.equal(master.locks.waiting().length, 0);
      } finally {
        off();
      }
    });
  });
}
