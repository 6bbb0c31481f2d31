// Test: a shell command whose output a test result parser reads (TAP, JUnit XML, node:test
// spec, pytest, unittest, go test…). The counts become properties and build metrics; failed
// tests make the step FAILURE even when the runner exits 0, and the failing names go to a
// `failed tests` log. As Buildbot's Test (a WarningCountingShellCommand), its stdio is also
// scanned for warnings (warning-counting.ts), and a failure only warns the build when
// flunkOnFailure is turned off.

import { testName } from '../data/test-history.js';
import { TEST_OUTPUT_FORMATS, type TestOutputFormat, testResultParser } from '../logparsers/index.js';
import type { TestResultParser, TestSummary } from '../logparsers/summary.js';
import { FAILURE, type Result, SUCCESS, WARNINGS, worstResult } from '../results.js';
import { type StepValue, stepValue } from './args.js';
import type { StepContext } from './contract.js';
import { StepOptionError, stepNumber, stepString } from './option-values.js';
import { ShellCommand, type ShellCommandOptions } from './shell.js';
import { observeWarnings, reportWarnings, type WarningCountingOptions } from './warning-counting.js';

export interface TestOptions extends Omit<ShellCommandOptions, 'command'>, WarningCountingOptions {
  /** Default `make test`, as Buildbot's. */
  readonly command?: ShellCommandOptions['command'];
  /** How the runner reports results; without one only the exit code and warnings count. */
  readonly format?: StepValue<TestOutputFormat>;
  /** Failing test names kept for the `failed tests` log; bounds memory on huge suites (default 200). */
  readonly maxFailedNames?: StepValue<number>;
  /**
   * A report file the runner writes on the worker (relative to workdir), parsed instead of
   * stdout, e.g. a JUnit XML file. It is streamed into a log named `results`.
   */
  readonly resultsFile?: StepValue<string>;
}

/** The log holding the names of the failing tests, one a line (the data API's test results read it). */
export const FAILED_TESTS_LOG = 'failed tests';
/** Its last line when it holds only some of them. */
export const FAILED_TESTS_TRUNCATED = '… and more';

/** The properties a Test step sets, in the order of TestSummary's counts. */
export const TEST_PROPERTIES = {
  total: 'tests-total',
  passed: 'tests-passed',
  failed: 'tests-failed',
  skipped: 'tests-skipped',
  todo: 'tests-todo',
} as const;

export class Test extends ShellCommand<TestOptions & ShellCommandOptions> {
  constructor(options: TestOptions = {}) {
    super({ warnOnFailure: true, description: 'testing', command: ['make', 'test'], ...options }, 'test');
  }

  override async run(ctx: StepContext): Promise<Result> {
    // Both readers are set up before the command starts: they read its output from the first line.
    const counter = await observeWarnings(this.options, ctx);
    const tests =
      this.options.format === undefined ? null : await this.#observeTests(this.options.format, ctx);
    const outcome = await this.runShell(ctx, false, tests?.file ? { logfiles: { results: tests.file } } : {});
    // A report's last line often has no newline: close the logs so the readers see it.
    if (tests) await ctx.closeLog(tests.source);
    await ctx.closeLog('stdio');
    await reportWarnings(counter, ctx);
    const command = await this.decode(ctx, outcome.rc);
    if (!tests) return counter.stepResult(command);
    const summary = tests.parser.summary();
    const muted = await ctx.mutedTests();
    const quarantine = mutedFailures(summary, muted);
    await this.#reportTests(summary, quarantine.muted, ctx);
    await ctx.recordTestHistory(summary.outcomes ?? [], muted);
    // Quarantined tests still run, but when they are the only failures, the runner's
    // non-zero exit is theirs: the step warns instead of failing (an interrupted or
    // crashed command still counts as such).
    if (quarantine.onlyMuted && (command === SUCCESS || command === FAILURE))
      return counter.stepResult(WARNINGS);
    const result = counter.stepResult(command);
    return summary.failed > 0 ? (worstResult(result, FAILURE) ?? FAILURE) : result;
  }

  async #observeTests(
    format: StepValue<TestOutputFormat>,
    ctx: StepContext,
  ): Promise<{ parser: TestResultParser; file: string; source: string }> {
    const parser = testResultParser(
      await stepFormat(format, ctx),
      this.options.maxFailedNames === undefined
        ? {}
        : { maxFailedNames: await stepNumber(this.options.maxFailedNames, ctx, 'maxFailedNames') },
    );
    const file =
      this.options.resultsFile === undefined
        ? ''
        : await stepString(this.options.resultsFile, ctx, 'resultsFile');
    // An empty name (e.g. a property left unset) means: parse stdout.
    const source = file ? 'results' : 'stdio';
    ctx.observeLog(source, parser);
    return { parser, file, source };
  }

  /** The counts as properties, metrics and the step's state; failing names in a log. */
  async #reportTests(summary: TestSummary, mutedCount: number, ctx: StepContext): Promise<void> {
    for (const [kind, name] of Object.entries(TEST_PROPERTIES)) {
      ctx.setProperty(name, summary[kind as keyof typeof TEST_PROPERTIES], this.name);
    }
    ctx.recordTests(summary);
    const described = describeTests(this.name, summary, mutedCount);
    await ctx.setState(described);
    // Muted failures stay in the finished step's summary, or the build's warnings would be
    // unexplained; otherwise it reads `<name> <result>`, as Buildbot's Test step does.
    if (mutedCount > 0) ctx.setResultSummary(described);
    if (summary.failedNames.length > 0) {
      const log = await ctx.addLog(FAILED_TESTS_LOG);
      const more = summary.failedNamesTruncated ? `${FAILED_TESTS_TRUNCATED}\n` : '';
      await log.write('o', `${summary.failedNames.join('\n')}\n${more}`);
    }
  }
}

async function stepFormat(value: StepValue<TestOutputFormat>, ctx: StepContext): Promise<TestOutputFormat> {
  const v: unknown = await stepValue(value, ctx);
  if (typeof v === 'string' && (TEST_OUTPUT_FORMATS as readonly string[]).includes(v))
    return v as TestOutputFormat;
  throw new StepOptionError('format', v, `one of ${TEST_OUTPUT_FORMATS.join(', ')}`);
}

/**
 * How many failures are of quarantined tests, and whether they are all the failures there
 * are (every failure named, every name muted): only then does the step not fail.
 */
export function mutedFailures(
  s: TestSummary,
  muted: ReadonlySet<string>,
): { readonly muted: number; readonly onlyMuted: boolean } {
  const count = s.failedNames.filter((n) => muted.has(testName(n))).length;
  const allNamed = !s.failedNamesTruncated && s.failedNames.length === s.failed;
  return { muted: count, onlyMuted: count > 0 && allNamed && count === s.failed };
}

function describeTests(name: string, s: TestSummary, mutedCount: number): string {
  const parts = [`${s.passed} passed`];
  if (s.failed) parts.push(mutedCount ? `${s.failed} failed (${mutedCount} muted)` : `${s.failed} failed`);
  if (s.skipped) parts.push(`${s.skipped} skipped`);
  if (s.todo) parts.push(`${s.todo} todo`);
  return `${name}: ${parts.join(', ')}`;
}

export function test(options: TestOptions = {}): Test {
  return new Test(options);
}
