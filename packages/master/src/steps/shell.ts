// ShellCommand: one program on the worker, its exit code decides the result.
import type { BuildStep, StepContext } from '../config/steps.js';
import { FAILURE, type Result, type ResultPolicy, SUCCESS } from '../results.js';
import { type EnvValue, type ShellArgs, type StepValue, shellArgs, stepValue } from './args.js';

export interface ShellCommandOptions extends ResultPolicy, Omit<ShellArgs, 'workdir' | 'command' | 'env'> {
  readonly name?: string;
  readonly description?: string;
  /** A string runs through `/bin/sh -c`; an argv list runs directly. */
  readonly command: StepValue<string | readonly string[]>;
  /** Relative to the builder's directory on the worker; default `build`, as in Buildbot. */
  readonly workdir?: string;
  readonly env?: StepValue<Readonly<Record<string, EnvValue>>>;
  readonly alwaysRun?: boolean;
  readonly doStepIf?: (ctx: StepContext) => boolean | Promise<boolean>;
  /** Exit code → result; codes not listed give FAILURE. Default `{ 0: SUCCESS }`. */
  readonly decodeRC?: Readonly<Record<number, Result>>;
}

export class ShellCommand implements BuildStep {
  readonly name: string;
  readonly description?: string;
  readonly alwaysRun?: boolean;
  readonly haltOnFailure?: boolean;
  readonly flunkOnFailure?: boolean;
  readonly flunkOnWarnings?: boolean;
  readonly warnOnFailure?: boolean;
  readonly warnOnWarnings?: boolean;
  readonly doStepIf?: (ctx: StepContext) => boolean | Promise<boolean>;

  constructor(readonly options: ShellCommandOptions) {
    this.name = options.name ?? 'shell';
    // Only the policy flags the user set: unset ones fall back to Buildbot's defaults.
    for (const key of [
      'description',
      'alwaysRun',
      'haltOnFailure',
      'flunkOnFailure',
      'flunkOnWarnings',
      'warnOnFailure',
      'warnOnWarnings',
      'doStepIf',
    ] as const) {
      if (options[key] !== undefined) Object.assign(this, { [key]: options[key] });
    }
  }

  async run(ctx: StepContext): Promise<Result> {
    const o = this.options;
    const outcome = await ctx.runCommand({
      name: 'shell',
      args: shellArgs({
        ...o,
        workdir: o.workdir ?? 'build',
        command: stepValue(o.command, ctx),
        env: o.env === undefined ? {} : stepValue(o.env, ctx),
      }),
      logName: 'stdio',
    });
    return decodeRC(outcome.rc, o.decodeRC);
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
