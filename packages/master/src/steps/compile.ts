// Compile: a shell command whose output is scanned for compiler warnings (Buildbot's
// Compile / WarningCountingShellCommand). Warnings make the step WARNINGS, more than
// `maxWarnCount` make it FAILURE; the count goes to the `warnings-count` property, the
// build's metrics and a `warnings (N)` log listing them.
import type { StepContext } from '../config/steps.js';
import { WarningCounter, type WarningCounterOptions } from '../logparsers/warnings.js';
import type { Result } from '../results.js';
import { ShellCommand, type ShellCommandOptions } from './shell.js';

export interface CompileOptions extends ShellCommandOptions, WarningCounterOptions {}

export class Compile extends ShellCommand<CompileOptions> {
  constructor(options: CompileOptions) {
    // Buildbot's Compile halts and fails the build on failure: nothing to test without a build.
    super({ haltOnFailure: true, flunkOnFailure: true, ...options }, 'compile');
  }

  override async run(ctx: StepContext): Promise<Result> {
    const counter = new WarningCounter(this.options);
    ctx.observeLog('stdio', counter);
    const outcome = await this.runShell(ctx);
    await ctx.closeLog('stdio');
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
    return counter.stepResult(await this.decode(ctx, outcome.rc));
  }
}

export function compile(options: CompileOptions): Compile {
  return new Compile(options);
}
