// Step options other than the command taken from the build's properties, in a real build on
// each kind of worker: a no-output timeout that kills a sleep, a directory made on the
// worker, stdin, usePTY, logfiles, decodeRC, a Test results file, a download's mode, an
// upload's maxsize, a master-side command's maxTime and decodeRC, a directory upload's
// compression and the step description, all rendered from the properties a forced
// build carries (as text, the way `lathe force --prop` sends them). A value of the wrong
// form fails its step with EXCEPTION and says which option. Also from properties: a
// Compile's maxWarnCount and pattern, a Test's format and maxFailedNames, the property a
// SetPropertyFromCommand sets and its strip, a Trigger's waitForFinish and copyProperties,
// and doStepIf (a plain false, and "false" from a property). Logfiles in Buildbot's full form
// ({ filename, follow }: only what is appended during the step) and lazylogfiles (no log
// for a file never written).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { EXCEPTION, FAILURE, SKIPPED, SUCCESS, WARNINGS } from '../src/results.js';
import { type WorkerKind, waitFor, workerAvailable } from './bbworker.js';
import { tempDir } from './helpers.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const TAP = '1..3\nok 1 - adds\nnot ok 2 - divides\nnot ok 3 - rounds\n';

const configText = `import { buildFactory, compile, defineConfig, directoryUpload, fileUpload, interpolate, makeDirectory, masterShellCommand, prop, setPropertyFromCommand, shellCommand, stringDownload, test, trigger } from '${lathe}';
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [
    {
      name: 'opts',
      workerNames: ['w1'],
      factory: buildFactory(
        shellCommand({
          name: 'described',
          description: interpolate('waiting for %(prop:signal)s'),
          command: interpolate('while [ ! -f %(prop:signal)s ]; do sleep 0.05; done'),
        }),
        shellCommand({ name: 'quiet', command: 'sleep 30', timeout: prop('quiet'), flunkOnFailure: false }),
        makeDirectory({ dir: interpolate('made/%(prop:sub)s') }),
        shellCommand({ name: 'stdin', command: 'cat', initialStdin: prop('stdin'), usePTY: prop('pty') }),
        shellCommand({ name: 'rc', command: 'exit 3', decodeRC: prop('codes') }),
        shellCommand({ name: 'logfile', command: 'echo logged > out.txt', logfiles: { extra: interpolate('%(prop:logfile)s') } }),
        stringDownload({ name: 'moded', s: '0123456789', workerdest: 'moded.txt', mode: prop('mode') }),
        fileUpload({ name: 'capped', workersrc: 'moded.txt', masterdest: 'capped.txt', maxsize: prop('max'), flunkOnFailure: false }),
        stringDownload({ name: 'tap-file', s: ${JSON.stringify(TAP)}, workerdest: 'tap.tmpl' }),
        test({ name: 'report', format: prop('format'), command: ['cp', 'tap.tmpl', 'r.tap'], resultsFile: prop('report'), maxFailedNames: prop('maxNames'), flunkOnFailure: false }),
        masterShellCommand({ name: 'master-slow', command: 'sleep 30', maxTime: prop('maxTime'), flunkOnFailure: false }),
        masterShellCommand({ name: 'master-rc', command: 'exit 3', decodeRC: prop('codes') }),
        shellCommand({ name: 'tree', command: 'mkdir -p tree/a && echo leaf > tree/a/f' }),
        directoryUpload({ name: 'tree-up', workersrc: 'tree', masterdest: 'tree-up', compress: prop('compress') }),
        // Two warnings, more than maxWarnCount "1": FAILURE (not halting, to go on).
        compile({ name: 'too-many', command: 'echo "warning: one"; echo "warning: two"', maxWarnCount: prop('maxWarn'), haltOnFailure: false }),
        // The pattern from the property counts the one note, not the warnings: WARNINGS.
        compile({ name: 'patterned', command: 'echo "note: one"; echo "warning: two"; echo "warning: three"', pattern: prop('warnPattern'), maxWarnCount: prop('maxWarn') }),
        // The suppression from the property drops one of the two warnings.
        compile({ name: 'suppressed', command: 'echo "warning: keep"; echo "warning: drop me"', suppressions: prop('suppress') }),
        setPropertyFromCommand({ name: 'captured', command: 'echo "  spaced  "', property: prop('propName'), strip: prop('strip') }),
        shellCommand({ name: 'never', command: 'touch never-ran', doStepIf: false }),
        shellCommand({ name: 'never-prop', command: 'touch never-ran-prop', doStepIf: prop('runIt') }),
        // The child fails: waiting for it (waitForFinish "true") makes this step FAILURE.
        trigger({ name: 'waiting', builderNames: ['child'], waitForFinish: prop('wait'), copyProperties: prop('copy'), flunkOnFailure: false }),
        // grow.txt holds old lines; followed, its log gets only what the command appends. The
        // stock worker seeks to the end when it first sees the file change (it polls every
        // 2 s), so it sends only what comes after that: new-2, written 4 s later.
        stringDownload({ name: 'old-lines', s: 'old-1\\nold-2\\n', workerdest: 'grow.txt' }),
        shellCommand({ name: 'followed', command: 'echo new-1 >> grow.txt; sleep 4; echo new-2 >> grow.txt', logfiles: { grow: { filename: 'grow.txt', follow: prop('follow') } } }),
        // Not followed: the whole file once it changed.
        shellCommand({ name: 'unfollowed', command: 'echo new-3 >> grow.txt', logfiles: { grow: { filename: 'grow.txt' } } }),
        shellCommand({ name: 'lazy', command: 'echo written > written.txt', lazylogfiles: prop('lazy'), logfiles: { written: 'written.txt', absent: 'absent.txt' } }),
        shellCommand({ name: 'eager', command: 'true', logfiles: { absent: 'absent.txt' } }),
        // Last: its EXCEPTION halts the build.
        shellCommand({ name: 'bad', command: 'true', timeout: prop('bogus') }),
      ),
    },
    { name: 'child', workerNames: ['w1'], factory: buildFactory(shellCommand({ name: 'fail', command: 'exit 2' })) },
  ],
});
`;

const PROPERTIES = {
  signal: 'go',
  quiet: '1',
  sub: 'deep',
  stdin: 'from a property\n',
  pty: 'false',
  codes: { 3: WARNINGS },
  logfile: 'out.txt',
  mode: '640',
  max: '4',
  report: 'r.tap',
  maxTime: '1',
  compress: 'gz',
  bogus: 'soon',
  format: 'tap',
  maxNames: '1',
  maxWarn: '1',
  warnPattern: 'note:',
  propName: 'captured_value',
  strip: 'false',
  runIt: 'false',
  wait: 'true',
  copy: 'sub',
  suppress: [{ warning: 'drop' }],
  follow: 'true',
  lazy: 'true',
};

for (const kind of ['stock', 'lathe'] as const) scenario(kind);

function scenario(kind: WorkerKind): void {
  const title = kind === 'stock' ? 'a stock buildbot-worker 3.7' : "Lathe's worker";
  describe(`step options from properties on ${title}`, { skip: !workerAvailable(kind) }, () => {
    const dir = tempDir('lathe-step-options-');
    const masterDir = join(dir.path, 'master');
    const workerDir = join(dir.path, 'worker');
    let env: MasterAndWorker | undefined;
    let master: Master;

    before(async () => {
      env = await startMasterAndWorker({ kind, masterDir, workerDir, configText, name: 'opts' });
      master = env.master;
    });

    after(async () => {
      await env?.stop();
      dir.cleanup();
    });

    async function stepLogs(buildid: number, step: string) {
      const s = (await master.data.steps.forBuild(buildid)).find((x) => x.name === step);
      assert.ok(s, `step ${step}`);
      return master.data.logs.forStep(s.id);
    }

    async function logNames(buildid: number, step: string): Promise<string[]> {
      return (await stepLogs(buildid, step)).map((l) => l.name);
    }

    async function logOf(buildid: number, step: string, log: string) {
      const l = (await stepLogs(buildid, step)).find((x) => x.name === log);
      assert.ok(l, `log ${log} of step ${step}`);
      return (await master.data.logs.get(l.id))!;
    }

    async function stepLog(buildid: number, step: string, log: string): Promise<string> {
      const row = await logOf(buildid, step, log);
      return (await master.data.logs.lines(row.id, 0, row.numLines - 1)).join('\n');
    }

    it('renders the options for the build and the worker applies them', async () => {
      const { buildrequestid } = await forceBuild(master, { builder: 'opts', properties: PROPERTIES });
      await waitFor(
        async () => (await master.data.builds.forRequest(buildrequestid)).length > 0,
        20_000,
        'the build to start',
      );
      const [build] = await master.data.builds.forRequest(buildrequestid);
      // The description is the step's state while it runs; the step waits until we saw it.
      await waitFor(
        async () =>
          (await master.data.steps.forBuild(build!.id)).some(
            (s) => s.name === 'described' && s.stateString === 'waiting for go',
          ),
        20_000,
        'the rendered description',
      );
      // The state is set just before the command goes to the worker, which may not have
      // made the build directory yet.
      mkdirSync(join(workerDir, 'opts', 'build'), { recursive: true });
      writeFileSync(join(workerDir, 'opts', 'build', 'go'), '');
      await waitForRequest(master, buildrequestid, 60_000);

      const steps = await master.data.steps.forBuild(build!.id);
      const result = Object.fromEntries(steps.map((s) => [s.name, s.results]));
      assert.deepEqual(result, {
        described: SUCCESS,
        // Killed after 1 s without output: FAILURE, long before the sleep would have ended.
        quiet: FAILURE,
        MakeDirectory: SUCCESS,
        stdin: SUCCESS,
        rc: WARNINGS,
        logfile: SUCCESS,
        moded: SUCCESS,
        capped: FAILURE,
        'tap-file': SUCCESS,
        report: FAILURE,
        // Killed by the master after maxTime 1 s: no exit code, FAILURE.
        'master-slow': FAILURE,
        'master-rc': WARNINGS,
        tree: SUCCESS,
        'tree-up': SUCCESS,
        bad: EXCEPTION,
        'too-many': FAILURE,
        patterned: WARNINGS,
        suppressed: WARNINGS,
        captured: SUCCESS,
        never: SKIPPED,
        'never-prop': SKIPPED,
        waiting: FAILURE,
        'old-lines': SUCCESS,
        followed: SUCCESS,
        unfollowed: SUCCESS,
        lazy: SUCCESS,
        eager: SUCCESS,
      });
      const slow = steps.find((s) => s.name === 'master-slow')!;
      assert.ok(slow.completeAt! - slow.startedAt! < 15, 'maxTime from the property killed the sleep');
      assert.match(await stepLog(build!.id, 'master-slow', 'stdio'), /command killed: maxTime 1s exceeded/);
      assert.equal(readFileSync(join(masterDir, 'tree-up', 'a', 'f'), 'utf8'), 'leaf\n');
      const quiet = steps.find((s) => s.name === 'quiet')!;
      assert.ok(quiet.completeAt! - quiet.startedAt! < 15, 'the timeout from the property killed the sleep');

      const builderDir = join(workerDir, 'opts');
      assert.ok(statSync(join(builderDir, 'made', 'deep')).isDirectory());
      assert.equal(statSync(join(builderDir, 'build', 'moded.txt')).mode & 0o777, 0o640);
      assert.ok(!existsSync(join(masterDir, 'capped.txt')), 'maxsize 4 refused the 10-byte file');
      assert.match(await stepLog(build!.id, 'stdin', 'stdio'), /^ofrom a property$/m);
      assert.match(await stepLog(build!.id, 'logfile', 'extra'), /logged/);
      const props = await master.data.builds.properties(build!.id);
      assert.equal(props['tests-failed']?.[0], 2, 'the results file from the property was parsed');
      // maxFailedNames "1": one name kept, the rest only counted.
      assert.equal(await stepLog(build!.id, 'report', 'failed tests'), 'odivides\no… and more');
      // 2 warnings + 1 note (the pattern from the property counts only the note) + 1 not
      // suppressed.
      assert.equal(props['warnings-count']?.[0], 4);
      assert.equal(await stepLog(build!.id, 'suppressed', 'warnings (1)'), 'owarning: keep');
      assert.equal(await stepLog(build!.id, 'patterned', 'warnings (1)'), 'onote: one');
      // The name from the property; strip "false" keeps the spaces and the newline.
      assert.deepEqual(props.captured_value, ['  spaced  \n', 'SetPropertyFromCommand Step']);
      assert.ok(!existsSync(join(workerDir, 'opts', 'build', 'never-ran')), 'doStepIf false: not run');
      assert.ok(!existsSync(join(workerDir, 'opts', 'build', 'never-ran-prop')), 'doStepIf "false": not run');
      // The Trigger waited for the child (its state tallies the child's result) and passed
      // on the property copyProperties named.
      const waiting = steps.find((s) => s.name === 'waiting')!;
      assert.equal(waiting.stateString, 'triggered child: 1 failure (failure)');
      const m = /child: build request (\d+): failure/.exec(
        await stepLog(build!.id, 'waiting', 'triggered builds'),
      );
      assert.ok(m, 'the triggered build was waited for');
      const [child] = await master.data.builds.forRequest(Number(m[1]));
      assert.deepEqual((await master.data.builds.properties(child!.id)).sub, ['deep', 'Trigger']);

      // follow "true": nothing of what the file held before the step.
      const followed = await stepLog(build!.id, 'followed', 'grow');
      assert.doesNotMatch(followed, /old/);
      if (kind === 'lathe') assert.equal(followed, 'onew-1\nonew-2');
      else {
        // The stock worker's 2 s poll decides where it starts, so on a loaded machine it
        // may see new-1 too or, very late, neither; what it sends is still only new lines.
        for (const line of followed.split('\n').filter(Boolean)) assert.match(line, /^onew-[12]$/);
      }
      assert.equal(await stepLog(build!.id, 'unfollowed', 'grow'), 'oold-1\noold-2\nonew-1\nonew-2\nonew-3');
      // lazylogfiles: only the file that was written has a log; eagerly, the absent one
      // has an empty log all the same.
      assert.deepEqual(await logNames(build!.id, 'lazy'), ['stdio', 'written']);
      assert.equal(await stepLog(build!.id, 'lazy', 'written'), 'owritten');
      assert.deepEqual(await logNames(build!.id, 'eager'), ['stdio', 'absent']);
      assert.equal((await logOf(build!.id, 'eager', 'absent')).numLines, 0);
      assert.match(
        await stepLog(build!.id, 'bad', 'err.text'),
        /step option timeout must be a number, got "soon"/,
      );
    });
  });
}
