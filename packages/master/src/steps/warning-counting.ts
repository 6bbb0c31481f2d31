// What Buildbot's WarningCountingShellCommand adds to a shell command, shared by the steps
// derived from it (Compile, Test): the stdio log is scanned for warnings; warnings make the
// step WARNINGS, more than `maxWarnCount` make it FAILURE; the count is added to the
// `warnings-count` property and the build's metrics, and a `warnings (N)` log lists them.

import { PythonRegExpError, pythonRegExp } from '../logparsers/python-regex.js';
import {
  WarningCounter,
  type WarningCounterOptions,
  type WarningSuppression,
} from '../logparsers/warnings.js';
import { type StepValue, stepValue } from './args.js';
import type { StepContext } from './contract.js';
import { StepOptionError, stepNumber } from './option-values.js';

/**
 * WarningCounter's options, each (but `extract`) a value, a renderable or a function of the
 * step context. Patterns given as text are Python regular expressions, as in Buildbot.
 */
export interface WarningCountingOptions {
  /** Default `(?i).*warning[: ].*` (Buildbot's). Matched at the start of each line. */
  readonly pattern?: StepValue<RegExp | string>;
  /** A function of the line, not of the build: given as is, never rendered. */
  readonly extract?: WarningCounterOptions['extract'];
  readonly suppressions?: StepValue<readonly WarningSuppression[]>;
  readonly directoryEnterPattern?: StepValue<RegExp | string | null>;
  readonly directoryLeavePattern?: StepValue<RegExp | string | null>;
  /** More warnings than this fail the step. */
  readonly maxWarnCount?: StepValue<number>;
  /** Warning lines kept for the "warnings" log (default 1000). */
  readonly maxRecorded?: StepValue<number>;
}

/**
 * A counter reading the step's `stdio` log, its options rendered now: before the command
 * starts, so it sees the output from the first line.
 */
export async function observeWarnings(o: WarningCountingOptions, ctx: StepContext): Promise<WarningCounter> {
  const counter = new WarningCounter(await warningCounterOptions(o, ctx));
  ctx.observeLog('stdio', counter);
  return counter;
}

/** Once the command has finished and its log is closed: the property, metrics and log. */
export async function reportWarnings(counter: WarningCounter, ctx: StepContext): Promise<void> {
  const report = counter.report();
  // As Buildbot: the property accumulates over several counting steps of a build.
  const before = Number(ctx.getProperty('warnings-count') ?? 0) || 0;
  ctx.setProperty('warnings-count', before + report.count, 'WarningCountingShellCommand');
  ctx.recordWarnings(report);
  if (report.count > 0) {
    const log = await ctx.addLog(`warnings (${report.count})`);
    const more = report.truncated ? `… ${report.count - report.warnings.length} more\n` : '';
    await log.write('o', `${report.warnings.join('\n')}\n${more}`);
  }
}

/** The counter's options for this build, each checked so a bad value names its option. */
export async function warningCounterOptions(
  o: WarningCountingOptions,
  ctx: StepContext,
): Promise<WarningCounterOptions> {
  const out: { -readonly [K in keyof WarningCounterOptions]: WarningCounterOptions[K] } = {};
  if (o.extract !== undefined) out.extract = o.extract;
  if (o.pattern !== undefined) out.pattern = await stepPattern(o.pattern, ctx, 'pattern');
  if (o.directoryEnterPattern !== undefined)
    out.directoryEnterPattern = await stepPattern(o.directoryEnterPattern, ctx, 'directoryEnterPattern');
  if (o.directoryLeavePattern !== undefined)
    out.directoryLeavePattern = await stepPattern(o.directoryLeavePattern, ctx, 'directoryLeavePattern');
  if (o.suppressions !== undefined) out.suppressions = await stepSuppressions(o.suppressions, ctx);
  if (o.maxWarnCount !== undefined) out.maxWarnCount = await stepNumber(o.maxWarnCount, ctx, 'maxWarnCount');
  if (o.maxRecorded !== undefined) out.maxRecorded = await stepNumber(o.maxRecorded, ctx, 'maxRecorded');
  return out;
}

/** A RegExp, or text that compiles as a Python regular expression (checked now, not on the first line). */
async function stepPattern<P extends RegExp | string | null>(
  value: StepValue<P>,
  ctx: StepContext,
  option: string,
): Promise<P> {
  const v: unknown = await stepValue(value, ctx);
  if (v === null || v instanceof RegExp) return v as P;
  if (typeof v === 'string') {
    try {
      pythonRegExp(v);
      return v as P;
    } catch (err) {
      if (!(err instanceof PythonRegExpError)) throw err;
      throw new StepOptionError(
        option,
        v,
        `a Python regular expression (${err.reason} at position ${err.position})`,
      );
    }
  }
  throw new StepOptionError(option, v, 'a regular expression');
}

/** Suppressions: a list of `{ file?, warning?, start?, end? }`, e.g. from a JSON property. */
async function stepSuppressions(
  value: StepValue<readonly WarningSuppression[]>,
  ctx: StepContext,
): Promise<WarningSuppression[]> {
  const list: unknown = await stepValue(value, ctx);
  if (!Array.isArray(list)) throw new StepOptionError('suppressions', list, 'a list of suppressions');
  const out: WarningSuppression[] = [];
  for (const [i, item] of list.entries()) {
    const option = `suppressions[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new StepOptionError(option, item, 'an object { file?, warning?, start?, end? }');
    const s = item as Record<string, unknown>;
    const one: { -readonly [K in keyof WarningSuppression]: WarningSuppression[K] } = {};
    if (s.file != null)
      one.file = await stepPattern<RegExp | string>(s.file as RegExp | string, ctx, `${option}.file`);
    if (s.warning != null)
      one.warning = await stepPattern<RegExp | string>(
        s.warning as RegExp | string,
        ctx,
        `${option}.warning`,
      );
    if (s.start != null) one.start = await stepNumber(s.start as number, ctx, `${option}.start`);
    if (s.end != null) one.end = await stepNumber(s.end as number, ctx, `${option}.end`);
    out.push(one);
  }
  return out;
}
