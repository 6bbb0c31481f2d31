// Compile: a shell command whose output is scanned for compiler warnings (Buildbot's
// Compile, a WarningCountingShellCommand: see warning-counting.ts).

import type { Result } from '../results.js';
import type { StepContext } from './contract.js';
import { ShellCommand, type ShellCommandOptions } from './shell.js';
import { observeWarnings, reportWarnings, type WarningCountingOptions } from './warning-counting.js';

export interface CompileOptions extends Omit<ShellCommandOptions, 'command'>, WarningCountingOptions {
  /** Default `make all`, as Buildbot's. */
  readonly command?: ShellCommandOptions['command'];
}

export class Compile extends ShellCommand<CompileOptions & ShellCommandOptions> {
  constructor(options: CompileOptions = {}) {
    // Buildbot's Compile halts and fails the build on failure: nothing to test without a build.
    super(
      {
        haltOnFailure: true,
        flunkOnFailure: true,
        description: 'compiling',
        command: ['make', 'all'],
        ...options,
      },
      'compile',
    );
  }

  override async run(ctx: StepContext): Promise<Result> {
    const counter = await observeWarnings(this.options, ctx);
    const outcome = await this.runShell(ctx);
    await ctx.closeLog('stdio');
    await reportWarnings(counter, ctx);
    return counter.stepResult(await this.decode(ctx, outcome.rc));
  }
}

export function compile(options: CompileOptions = {}): Compile {
  return new Compile(options);
}
