// The steps and the toolkit wired into real builds, against a stock Python buildbot-worker
// 3.7: properties with sources and renderables, secrets rendered for the worker and
// redacted from every log (the worker's command echo and environment dump included),
// compile warnings, test result parsing, property steps, all four file transfers on real
// files, a master-side command, step flags, metrics and the ETA, build and step locks under
// contention with cancellation, the custom step from examples/steps, trigger (links to the
// triggered builds, property sources, waiting or not, a stop), and properties rendered from
// secrets: masked where stored, announced and passed on, real for the worker.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { BusEvents } from '../src/bus/events.js';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { CANCELLED, FAILURE, RETRY, type Result, SKIPPED, SUCCESS, WARNINGS } from '../src/results.js';
import { type WorkerRuntime, withWorkers } from '../src/runtime.js';
import {
  alive,
  LatheWorker,
  StockWorker,
  stockWorkerAvailable,
  type TestWorker,
  waitFor,
} from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const artifactSize = pathToFileURL(
  join(import.meta.dirname, '..', '..', '..', '..', 'examples', 'dist', 'steps', 'artifact-size.js'),
).href;

const TOKEN = 'tok-8c1f0e5d93b2';
const UI = 'https://ci.example.test/lathe/';
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
  buildbotURL: ${JSON.stringify(UI)},
  workers: [{ name: 'w1', password: 'pw-1', properties: { arch: 'x86' } }, { name: 'w-offline', password: 'pw-2' }],
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
        trigger({ name: 'fire-and-forget', builderNames: ['child', 'nowhere'], setProperties: { fail: true } }),
      ),
    },
    {
      // Its only worker never connects: a request for it stays pending.
      name: 'nowhere',
      workerNames: ['w-offline'],
      factory: buildFactory(shellCommand({ command: 'true' })),
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
      factory: buildFactory(trigger({ builderNames: ['child', 'child-slow'], waitForFinish: true })),
    },
    {
      name: 'child-slow',
      workerNames: ['w1'],
      factory: buildFactory(shellCommand({ name: 'slow', command: 'echo $$ > pid; exec sleep 60' })),
    },
    {
      name: 'secret-props',
      workerNames: ['w1'],
      factory: buildFactory(
        // The token as plain text: the build has not used the secret yet, so nothing masks it here.
        setPropertyFromCommand({ name: 'early', command: ['echo', ${JSON.stringify(TOKEN)}], property: 'early' }),
        setProperty({ property: 'deploy_token', value: interpolate('%(secret:token)s') }),
        setPropertyFromCommand({ name: 'echoed', command: interpolate('echo https://u:%(secret:token)s@host/x'), property: 'echoed_url' }),
        shellCommand({
          name: 'use-props',
          command: interpolate('echo %(prop:deploy_token)s > prop-token.txt; echo %(prop:echoed_url)s > prop-url.txt; echo %(prop:early)s > prop-early.txt'),
        }),
        trigger({
          name: 'pass-on',
          builderNames: ['child-props'],
          waitForFinish: true,
          copyProperties: ['deploy_token'],
          setProperties: { label: interpolate('for-%(secret:token)s') },
          reason: interpolate('deploy with %(secret:token)s'),
        }),
      ),
    },
    {
      name: 'child-props',
      workerNames: ['w1'],
      factory: buildFactory(
        shellCommand({ name: 'got', command: interpolate("printf '%%s %%s' '%(prop:deploy_token)s' '%(prop:label)s' > got.txt") }),
      ),
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
    let worker: TestWorker;
    const errors: string[] = [];

    before(async () => {
      mkdirSync(masterDir);
      writeFileSync(join(masterDir, 'master.config.ts'), configText());
      writeFileSync(join(masterDir, 'input.txt'), 'from the master\n');
      rt = withWorkers(
        {
          basedir: masterDir,
          name: 'steps',
          onError: (err, ctx) => errors.push(`${ctx}: ${String(err)}`),
        },
        { port: 0, host: '127.0.0.1' },
      );
      master = await startMaster(rt.options);
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

    it('triggers builds with copied and set properties, links them, waits for them, and cancels them when stopped', async () => {
      const parent = await runToEnd('parent');
      assert.equal(parent.results, SUCCESS, parent.stateString);
      const log = await stepLog(parent.id, 'trigger', 'triggered builds');
      const m = /child: build request (\d+): success/.exec(log);
      assert.ok(m, log);
      const childBuild = (await master.data.builds.forRequest(Number(m[1]))).at(-1)!;
      assert.ok((await stepLog(childBuild.id, 'show')).includes(`ocolour=blue size=${parent.number}-big`));
      const childProps = await master.data.builds.properties(childBuild.id);
      // Copied and set properties reach the triggered build with Buildbot's source for them.
      assert.deepEqual(childProps.colour, ['blue', 'Trigger']);
      assert.deepEqual(childProps.size, [`${parent.number}-big`, 'Trigger']);
      assert.deepEqual(
        childProps.buildername,
        ['child', 'Builder'],
        'the build layer still wins over Trigger',
      );

      // The waiting step links the build it started, by builder and number, into the UI, and
      // its finished state tallies the results.
      const childBuilder = master.builders.get('child')!.builderid;
      const waited = (await steps(parent.id)).find((s) => s.name === 'trigger')!;
      assert.deepEqual(waited.urls, [
        {
          name: `child #${childBuild.number}`,
          url: `${UI}#/builders/${childBuilder}/builds/${childBuild.number}`,
        },
      ]);
      assert.equal(waited.stateString, 'triggered child: 1 success');

      // Not waited for: the parent succeeded although this child fails. Every request of the
      // fire-and-forget step is linked: by its build if it started before the step ended,
      // else by the request (the `nowhere` builder's worker never connects).
      await waitFor(
        async () =>
          (await master.data.builds.latestForBuilder(childBuilder, 10)).some(
            (b) => b.id !== childBuild.id && b.results != null,
          ),
        20_000,
        'the fire-and-forget child',
      );
      const forgotten = (await master.data.builds.latestForBuilder(childBuilder, 10)).find(
        (b) => b.id !== childBuild.id,
      )!;
      assert.equal(forgotten.results, FAILURE);
      const fired = (await steps(parent.id)).find((s) => s.name === 'fire-and-forget')!;
      assert.equal(fired.stateString, 'triggered child, nowhere');
      assert.equal(fired.results, SUCCESS);
      const [pendingNowhere] = await master.data.buildrequests.pendingForBuilder(
        master.builders.get('nowhere')!.builderid,
      );
      assert.ok(pendingNowhere);
      const byName = new Map(fired.urls.map((u) => [u.name, u.url]));
      assert.equal(fired.urls.length, 2, JSON.stringify(fired.urls));
      assert.equal(
        byName.get(`nowhere request #${pendingNowhere.id}`),
        `${UI}#/buildrequests/${pendingNowhere.id}`,
      );
      const childLink = fired.urls.find((u) => u.name.startsWith('child'))!;
      assert.ok(
        [
          `child #${forgotten.number} ${UI}#/builders/${childBuilder}/builds/${forgotten.number}`,
          `child request #${forgotten.buildrequestid} ${UI}#/buildrequests/${forgotten.buildrequestid}`,
        ].includes(`${childLink.name} ${childLink.url}`),
        JSON.stringify(childLink),
      );

      const { buildrequestid } = await forceBuild(master, { builder: 'parent-stop' });
      const stopping = await buildOf(buildrequestid);
      const pidFile = join(workerDir, 'child-slow', 'build', 'pid');
      await waitFor(
        () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'),
        20_000,
        'the child to run',
      );
      // While it waits, the step says for what and tallies what finished, and already links
      // the builds as they started.
      const slowBuilder = master.builders.get('child-slow')!.builderid;
      const running = (await master.data.builds.latestForBuilder(slowBuilder, 1))[0]!;
      await waitFor(
        async () => (await steps(stopping.id))[0]?.stateString === 'waiting for child-slow; 1 success',
        20_000,
        'the quick child to finish',
      );
      const quick = (await master.data.builds.latestForBuilder(childBuilder, 1))[0]!;
      assert.equal(quick.results, SUCCESS);
      const sortedUrls = async () =>
        [...(await steps(stopping.id))[0]!.urls].sort((a, b) => a.name.localeCompare(b.name));
      const expectedUrls = [
        { name: `child #${quick.number}`, url: `${UI}#/builders/${childBuilder}/builds/${quick.number}` },
        {
          name: `child-slow #${running.number}`,
          url: `${UI}#/builders/${slowBuilder}/builds/${running.number}`,
        },
      ];
      assert.deepEqual(await sortedUrls(), expectedUrls);
      rt.runner.stopBuild(stopping.id, 'not today');
      await waitForRequest(master, buildrequestid, 20_000);
      assert.equal((await master.data.builds.get(stopping.id))?.results, CANCELLED);
      await waitFor(
        () => !rt.runner.running().some((b) => b.builder === 'child-slow'),
        20_000,
        'the triggered build to be stopped',
      );
      const slow = (await master.data.builds.latestForBuilder(slowBuilder, 1))[0];
      assert.equal(slow?.id, running.id);
      assert.equal(slow?.results, CANCELLED);
      const stopped = (await steps(stopping.id))[0]!;
      assert.equal(stopped.stateString, 'triggered child, child-slow (cancelled)');
      assert.deepEqual(await sortedUrls(), expectedUrls, 'one link per build, none added by the stop');
      await waitFor(() => !alive(Number(readFileSync(pidFile, 'utf8'))), 10_000, 'the child process to die');
    });

    it("layers the built changes' properties under the request's; forced properties say so", async () => {
      const changeid = await master.data.changes.add({
        author: 'dev <dev@example.org>',
        repository: 'repo',
        branch: 'main',
        revision: 'abc123',
        properties: { colour: 'red', size: 'from-change' },
      });
      const change = (await master.data.changes.get(changeid))!;
      const childid = master.builders.get('child')!.builderid;
      const added = await master.data.buildsets.add({
        sourcestampids: [change.sourcestampid],
        builderids: [childid],
        reason: 'a change',
        properties: { size: 'from-request' },
        propertiesSource: 'Scheduler',
      });
      const brid = added.buildrequestids.get(childid)!;
      await waitForRequest(master, brid, 60_000);
      const build = (await master.data.builds.forRequest(brid)).at(-1)!;
      const props = await master.data.builds.properties(build.id);
      assert.deepEqual(props.colour, ['red', 'Change']);
      assert.deepEqual(props.size, ['from-request', 'Scheduler'], 'the request beats the change');
      assert.ok((await stepLog(build.id, 'show')).includes('ocolour=red size=from-request'));

      const { buildrequestid } = await forceBuild(master, {
        builder: 'child',
        properties: { size: 'forced' },
      });
      await waitForRequest(master, buildrequestid, 60_000);
      const forced = (await master.data.builds.forRequest(buildrequestid)).at(-1)!;
      assert.deepEqual((await master.data.builds.properties(forced.id)).size, ['forced', 'Force Build Form']);
      assert.equal((await master.data.builds.properties(forced.id)).colour, undefined);
    });

    it('stores and announces properties rendered from a secret masked; later steps and the worker get the real value', async () => {
      const announced: BusEvents['build.properties'][] = [];
      const sub = master.bus.subscribe('build.properties', (m) => {
        announced.push(m.payload);
      });
      try {
        const build = await runToEnd('secret-props');
        assert.equal(build.results, SUCCESS, build.stateString);

        // A later step rendered the properties for the worker: it wrote the real values.
        const builddir = join(workerDir, 'secret-props', 'build');
        assert.equal(readFileSync(join(builddir, 'prop-token.txt'), 'utf8'), `${TOKEN}\n`);
        assert.equal(readFileSync(join(builddir, 'prop-url.txt'), 'utf8'), `https://u:${TOKEN}@host/x\n`);
        assert.equal(readFileSync(join(builddir, 'prop-early.txt'), 'utf8'), `${TOKEN}\n`);

        // What is stored, and so what the data layer hands the UI, has the secret masked.
        const props = await master.data.builds.properties(build.id);
        assert.deepEqual(props.deploy_token, ['<secret>', 'SetProperty']);
        assert.deepEqual(props.echoed_url, ['https://u:<secret>@host/x', 'SetPropertyFromCommand Step']);
        // Set before the build used the secret; masked once it did.
        assert.deepEqual(props.early, ['<secret>', 'SetPropertyFromCommand Step']);
        assert.ok(!JSON.stringify(props).includes(TOKEN), JSON.stringify(props));

        // On the bus: the build's initial properties in one announcement, then each change,
        // masked; only `early` went out in clear, before the build knew it was a secret (its
        // step's log shows it too), and was announced again masked.
        await waitFor(
          () => announced.some((p) => p.buildid === build.id && p.properties.early?.[0] === '<secret>'),
          5_000,
          'the masked early property on the bus',
        );
        const mine = announced.filter((p) => p.buildid === build.id);
        assert.deepEqual(mine[0]?.properties.buildnumber, [build.number, 'Build']);
        assert.deepEqual(mine[0]?.properties.buildername, ['secret-props', 'Builder']);
        const inClear = mine.flatMap((p) =>
          Object.entries(p.properties)
            .filter(([, v]) => JSON.stringify(v).includes(TOKEN))
            .map(([name]) => name),
        );
        assert.deepEqual(inClear, ['early']);
        const latest = Object.assign({}, ...mine.map((p) => p.properties)) as Record<string, unknown>;
        assert.deepEqual(latest.deploy_token, ['<secret>', 'SetProperty']);
        assert.deepEqual(latest.echoed_url, ['https://u:<secret>@host/x', 'SetPropertyFromCommand Step']);
        assert.deepEqual(latest.early, ['<secret>', 'SetPropertyFromCommand Step']);

        // Handed to a triggered build, the properties leave this build: masked there too.
        const childBuilder = master.builders.get('child-props')!.builderid;
        const child = (await master.data.builds.latestForBuilder(childBuilder, 1))[0]!;
        const passOn = (await steps(build.id)).find((s) => s.name === 'pass-on')!;
        assert.deepEqual(passOn.urls, [
          {
            name: `child-props #${child.number}`,
            url: `${UI}#/builders/${childBuilder}/builds/${child.number}`,
          },
        ]);
        const childProps = await master.data.builds.properties(child.id);
        assert.deepEqual(childProps.deploy_token, ['<secret>', 'Trigger']);
        assert.deepEqual(childProps.label, ['for-<secret>', 'Trigger']);
        const request = (await master.data.buildrequests.get(child.buildrequestid))!;
        assert.ok(
          !JSON.stringify(await master.data.buildsets.properties(request.buildsetid)).includes(TOKEN),
        );
        assert.equal((await master.data.buildsets.get(request.buildsetid))?.reason, 'deploy with <secret>');
        assert.equal(
          readFileSync(join(workerDir, 'child-props', 'build', 'got.txt'), 'utf8'),
          '<secret> for-<secret>',
        );
        const childAnnounced = announced.filter((p) => p.buildid === child.id);
        assert.deepEqual(childAnnounced[0]?.properties.deploy_token, ['<secret>', 'Trigger']);
        assert.ok(!JSON.stringify(childAnnounced).includes(TOKEN));
      } finally {
        sub.unsubscribe();
      }
    });

    it('estimates the running build from earlier ones and exposes it in running() and on the bus', async () => {
      for (let i = 0; i < 2; i++) assert.equal((await runToEnd('eta')).results, SUCCESS);
      // Each finished step recorded how its output reached the master over its time (four
      // lines, one every half second): shares at 25/50/75 % of the step, rising, in [0, 1].
      const last = (await master.data.builds.latestForBuilder(master.builders.get('eta')!.builderid, 1))[0]!;
      const m = await master.data.metrics.forBuild(last.id);
      const shape = [25, 50, 75].map((p) => m[`step:nap:lines_at_${p}`]);
      assert.ok(
        shape.every((v, i) => v !== undefined && v >= 0 && v <= 1 && (i === 0 || v >= shape[i - 1]!)),
        JSON.stringify(shape),
      );
      // How much grew before the end depends on the worker: buildbot-worker batches output for
      // up to 5 s, the Lathe worker 1 s, so this short step's lines may all arrive at its end.
      // eta.test.ts checks the profile's arithmetic on a known timeline.
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
