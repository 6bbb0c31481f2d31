// Warning counting as Buildbot does it, in real builds on a stock buildbot-worker 3.7: the
// same output goes through Lathe's Test steps and through Buildbot 3.7's own Test step class
// (WarningCountingShellCommand, run by Debian's Python), which must agree on the count, the
// warning lines and the step result for each pattern, suppression list and maxWarnCount.
// Patterns given as text are Python regular expressions (case-sensitive unless (?i)). Also
// the Configure step: `./configure` by default, halting the build when it fails.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { FAILURE, SUCCESS, WARNINGS } from '../src/results.js';
import { workerAvailable } from './bbworker.js';
import { tempDir } from './helpers.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';

const PYTHON = '/usr/bin/python3';
const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

const OUTPUT = [
  "src/a.c:3:5: warning: unused variable 'x'",
  'src/b.c:9:1: Warning: implicit declaration',
  'WARNING: deprecated option',
  'note: nothing to see',
  'warnings are fine here',
  'lib/c.c:12:2: warning: comparison of integers of different signs',
  "make[1]: Entering directory '/w/sub'",
  'd.c:4:1: warning: in a subdirectory',
  "make[1]: Leaving directory '/w/sub'",
  'ünïcode wärning: seen by \\w in Python',
  '',
].join('\n');

/** One Test step's warning options, in Buildbot's terms and Lathe's. */
interface Case {
  readonly name: string;
  readonly pattern?: string;
  /** Buildbot's (FILE-RE, WARN-RE, START, END) tuples. */
  readonly suppressions?: readonly (readonly [string | null, string | null, number | null, number | null])[];
  readonly regexpGroups?: boolean;
  readonly maxWarnCount?: number;
  /** The command's exit code. */
  readonly rc?: number;
}

const CASES: readonly Case[] = [
  { name: 'default' },
  { name: 'case-sensitive', pattern: '.*warning: ' },
  { name: 'inline-flag', pattern: '(?i).*warning: ' },
  { name: 'unicode-word', pattern: '\\w+ wärning' },
  { name: 'anchored-at-start', pattern: 'warning' },
  {
    name: 'suppressed',
    pattern: '(.+?):(\\d+):\\d+: [Ww]arning: (.*)',
    regexpGroups: true,
    suppressions: [
      // Matched from the start of the path with make's directory: /w/sub/d.c.
      ['/w/sub/d\\.c', null, null, null],
      [null, 'signs$', 10, 20],
      ['src/b\\.c', 'never', null, null],
    ],
  },
  { name: 'too-many', maxWarnCount: 3 },
  { name: 'enough', maxWarnCount: 7 },
  { name: 'failed-command', rc: 2 },
];

// Buildbot 3.7's Test step, fed the lines as its stdio observer would be, then evaluated.
const BUILDBOT_TEST = `
import json, sys
from buildbot.steps.shell import Test
cases, text = json.load(sys.stdin)
out = []
for case in cases:
    kwargs = {}
    if 'pattern' in case:
        kwargs['warningPattern'] = case['pattern']
    if 'suppressions' in case:
        kwargs['suppressionList'] = [tuple(s) for s in case['suppressions']]
    if case.get('regexpGroups'):
        kwargs['warningExtractor'] = Test.warnExtractFromRegexpGroups
    if 'maxWarnCount' in case:
        kwargs['maxWarnCount'] = case['maxWarnCount']
    step = Test(**kwargs)
    step.setup_suppression()
    consumer = step.warningLogConsumer()
    next(consumer)
    for line in text.split('\\n')[:-1]:
        consumer.send(('o', line))
    class Command:
        def results(self):
            return 0 if case.get('rc', 0) == 0 else 2
    out.append({'count': step.warnCount, 'warnings': step.loggedWarnings,
                'result': step.evaluateCommand(Command())})
print(json.dumps(out))
`;

interface BuildbotVerdict {
  readonly count: number;
  readonly warnings: readonly string[];
  readonly result: number;
}

function buildbotVerdicts(): BuildbotVerdict[] {
  const r = spawnSync(PYTHON, ['-c', BUILDBOT_TEST], {
    input: JSON.stringify([CASES, OUTPUT]),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as BuildbotVerdict[];
}

function testStep(c: Case): string {
  const options: Record<string, unknown> = {
    name: c.name,
    command: `cat output.txt; exit ${c.rc ?? 0}`,
    flunkOnFailure: false,
  };
  if (c.pattern !== undefined) options.pattern = c.pattern;
  if (c.regexpGroups) options.extract = 'regexpGroups';
  if (c.suppressions)
    options.suppressions = c.suppressions.map(([file, warning, start, end]) => ({
      ...(file === null ? {} : { file }),
      ...(warning === null ? {} : { warning }),
      ...(start === null ? {} : { start, end }),
    }));
  if (c.maxWarnCount !== undefined) options.maxWarnCount = c.maxWarnCount;
  return `test(${JSON.stringify(options)})`;
}

const TAP = '1..2\nok 1 - adds\n# warning: deprecated call\nok 2 - subtracts\n';

const configText = `import { buildFactory, compile, configure, defineConfig, shellCommand, stringDownload, test } from '${lathe}';
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [
    {
      name: 'counting',
      workerNames: ['w1'],
      factory: buildFactory(
        stringDownload({ s: '#!/bin/sh\\necho "checking for cc... cc"\\necho configured > config.status\\n', workerdest: 'configure', mode: 0o755 }),
        configure(),
        stringDownload({ name: 'output', s: ${JSON.stringify(OUTPUT)}, workerdest: 'output.txt' }),
        ${CASES.map(testStep).join(',\n        ')},
        test({ name: 'tap-warned', format: 'tap', command: ['printf', '%s', ${JSON.stringify(TAP)}] }),
        compile({ name: 'compile-text-pattern', command: 'echo "WARNING: loud"; echo "warning: quiet"', pattern: 'warning:' }),
      ),
    },
    {
      name: 'unconfigured',
      workerNames: ['w1'],
      factory: buildFactory(
        stringDownload({ s: '#!/bin/sh\\necho "configure: error: no C compiler found" >&2\\nexit 1\\n', workerdest: 'configure', mode: 0o755 }),
        configure(),
        shellCommand({ name: 'make', command: 'touch built' }),
      ),
    },
  ],
});
`;

describe("warning counting against Buildbot 3.7's Test step, and Configure, on a stock buildbot-worker", {
  skip: (!workerAvailable('stock') || !existsSync(PYTHON)) && 'no stock buildbot-worker / Buildbot',
}, () => {
  const dir = tempDir('lathe-warning-steps-');
  const workerDir = join(dir.path, 'worker');
  let env: MasterAndWorker | undefined;
  let master: Master;

  before(async () => {
    env = await startMasterAndWorker({
      kind: 'stock',
      masterDir: join(dir.path, 'master'),
      workerDir,
      configText,
      name: 'warnings',
    });
    master = env.master;
  });

  after(async () => {
    await env?.stop();
    dir.cleanup();
  });

  async function build(builder: string) {
    const { buildrequestid } = await forceBuild(master, { builder });
    await waitForRequest(master, buildrequestid, 120_000);
    const [b] = await master.data.builds.forRequest(buildrequestid);
    assert.ok(b);
    return { build: b, steps: await master.data.steps.forBuild(b.id) };
  }

  async function warningLog(stepid: number): Promise<string[] | null> {
    const log = (await master.data.logs.forStep(stepid)).find((l) => l.name.startsWith('warnings ('));
    if (!log) return null;
    const lines = await master.data.logs.lines(log.id, 0, log.numLines - 1);
    return lines.map((l) => l.slice(1));
  }

  it('counts, lists and judges warnings as Buildbot does; Configure runs ./configure', async () => {
    const expected = buildbotVerdicts();
    const { build: b, steps } = await build('counting');
    const byName = new Map(steps.map((s) => [s.name, s]));
    let total = 0;
    for (const [i, c] of CASES.entries()) {
      const bb = expected[i]!;
      const step = byName.get(c.name);
      assert.ok(step, c.name);
      const lines = await warningLog(step.id);
      assert.deepEqual(
        { count: lines?.length ?? 0, warnings: lines ?? [], result: step.results },
        { count: bb.count, warnings: bb.warnings, result: bb.result },
        c.name,
      );
      total += bb.count;
    }
    // Not vacuous: the cases differ in what Buildbot counts, and the results vary.
    assert.deepEqual(
      expected.map((v) => v.count),
      [5, 3, 5, 1, 1, 2, 5, 5, 5],
    );
    assert.deepEqual(
      expected.map((v) => v.result),
      [WARNINGS, WARNINGS, WARNINGS, WARNINGS, WARNINGS, WARNINGS, FAILURE, WARNINGS, FAILURE],
    );

    // A test format and warnings together: the counts and the warnings in the state.
    const tap = byName.get('tap-warned')!;
    assert.equal(tap.results, WARNINGS);
    assert.equal(tap.stateString, 'tap-warned warnings');
    assert.equal((await master.data.builds.properties(b.id))['tests-passed']?.[0], 2);
    assert.deepEqual(await warningLog(tap.id), ['# warning: deprecated call']);
    // Compile reads its text pattern as Python does: case-sensitive.
    const compiled = byName.get('compile-text-pattern')!;
    assert.deepEqual(await warningLog(compiled.id), ['warning: quiet']);

    const props = await master.data.builds.properties(b.id);
    assert.deepEqual(props['warnings-count'], [total + 1 + 1, 'WarningCountingShellCommand']);

    const configured = byName.get('configure')!;
    assert.equal(configured.results, SUCCESS);
    assert.equal(configured.stateString, 'configure');
    assert.ok(existsSync(join(workerDir, 'counting', 'build', 'config.status')), './configure ran');
  });

  it('a failing Configure fails the build and halts it', async () => {
    const { build: b, steps } = await build('unconfigured');
    assert.equal(b.results, FAILURE);
    assert.deepEqual(
      steps.map((s) => [s.name, s.results, s.stateString]),
      [
        ['string_download', SUCCESS, 'string_download success'],
        ['configure', FAILURE, 'configure (failure)'],
      ],
    );
    assert.ok(!existsSync(join(workerDir, 'unconfigured', 'build', 'built')), 'make did not run');
  });
});
