// ShellCommand: one program on the worker, its exit code decides the result.
import type { RemoteCommandOutcome, StepContext } from '../config/steps.js';
import { FAILURE, type Result, SUCCESS } from '../results.js';
import { type EnvValue, type ShellArgs, type StepValue, shellArgs, stepValue } from './args.js';
import { Step, type StepOptions } from './base.js';

export interface ShellCommandOptions extends StepOptions, Omit<ShellArgs, 'workdir' | 'command' | 'env'> {
  /** A string runs through `/bin/sh -c`; an argv list runs directly. */
  readonly command: StepValue<string | readonly string[]>;
  /** Relative to the builder's directory on the worker; default `build`, as in Buildbot. */
  readonly workdir?: StepValue<string>;
  readonly env?: StepValue<Readonly<Record<string, EnvValue>>>;
  /** Exit code → result; codes not listed give FAILURE. Default `{ 0: SUCCESS }`. */
  readonly decodeRC?: Readonly<Record<number, Result>>;
}

export class ShellCommand<O extends ShellCommandOptions = ShellCommandOptions> extends Step<O> {
  constructor(options: O, defaultName = 'shell') {
    super(options, defaultName);
  }

  /** The worker arguments for this build, renderables rendered. */
  protected async shellArgs(ctx: StepContext): Promise<Record<string, unknown>> {
    const o = this.options;
    return shellArgs({
      ...o,
      workdir: o.workdir === undefined ? 'build' : await stepValue(o.workdir, ctx),
      command: await stepValue(o.command, ctx),
      env: o.env === undefined ? {} : await stepValue(o.env, ctx),
    });
  }

  /** Runs the command with its output in the `stdio` log; subclasses add parsing around it. */
  protected async runShell(ctx: StepContext, collectStdout = false): Promise<RemoteCommandOutcome> {
    return ctx.runCommand({
      name: 'shell',
      args: await this.shellArgs(ctx),
      logName: 'stdio',
      collectStdout,
    });
  }

  async run(ctx: StepContext): Promise<Result> {
    const outcome = await this.runShell(ctx);
    return decodeRC(outcome.rc, this.options.decodeRC);
  }
}

export function decodeRC(
  rc: number | null,
  table: Readonly<Record<number, Result>> = { 0: SUCCESS },
): Result {
  if (rc === null) return FAILURE;
  return table[rc] ?? FAILURE;
}

/** `shellCommand({ command: 'make' })` — a ShellCommand step. */
export function shellCommand(options: ShellCommandOptions): ShellCommand {
  return new ShellCommand(options);
}
