// ShellCommand: one program on the worker, its exit code decides the result.

import { FAILURE, isResult, type Result, SUCCESS } from '../results.js';
import {
  type EnvValue,
  type LogfileSpec,
  type Logfiles,
  type ShellArgs,
  type StepValue,
  shellArgs,
  stepValue,
} from './args.js';
import { Step, type StepOptions } from './base.js';
import type { RemoteCommandOutcome, StepContext } from './contract.js';
import { StepOptionError, stepBoolean, stepNumber, stepString } from './option-values.js';

/** Every option may be a value, a renderable (`prop`, `interpolate`…) or a function of the step's context. */
export interface ShellCommandOptions extends StepOptions {
  /** A string runs through `/bin/sh -c`; an argv list runs directly. */
  readonly command: StepValue<string | readonly string[]>;
  /** Relative to the builder's directory on the worker; default `build`, as in Buildbot. */
  readonly workdir?: StepValue<string>;
  readonly env?: StepValue<Readonly<Record<string, EnvValue>>>;
  readonly wantStdout?: StepValue<boolean | 0 | 1>;
  readonly wantStderr?: StepValue<boolean | 0 | 1>;
  /**
   * Files on the worker (relative to workdir) whose content is streamed into logs of these
   * names: `{ name: path }` or `{ name: { filename, follow } }` (follow: only what is
   * appended once the command runs).
   */
  readonly logfiles?: StepValue<Logfiles>;
  /**
   * Create a logfile's log only when content for it arrives, so a file never written leaves
   * no empty log; default false: every log exists from the start, as in Buildbot.
   */
  readonly lazylogfiles?: StepValue<boolean>;
  /** Seconds without output before the worker kills the command; default 1200, null for none. */
  readonly timeout?: StepValue<number | null>;
  /** Seconds in total before the worker kills the command; default none. */
  readonly maxTime?: StepValue<number | null>;
  readonly sigtermTime?: StepValue<number | null>;
  readonly usePTY?: StepValue<boolean>;
  readonly logEnviron?: StepValue<boolean>;
  readonly initialStdin?: StepValue<string | null>;
  /** Signal name without SIG; default KILL. null leaves it out (the worker's default, KILL). */
  readonly interruptSignal?: StepValue<string | null>;
  /** Exit code → result; codes not listed give FAILURE. Default `{ 0: SUCCESS }`. */
  readonly decodeRC?: StepValue<Readonly<Record<number, Result>>>;
}

export class ShellCommand<O extends ShellCommandOptions = ShellCommandOptions> extends Step<O> {
  constructor(options: O, defaultName = 'shell') {
    super(options, defaultName);
  }

  /**
   * The worker arguments for this build, renderables rendered; `extra` (e.g. a Test step's
   * results file) is added to what the options say.
   */
  protected async shellArgs(
    ctx: StepContext,
    extra: { readonly logfiles?: Logfiles } = {},
  ): Promise<Record<string, unknown>> {
    const o = this.options;
    const a: { -readonly [K in keyof ShellArgs]: ShellArgs[K] } = {
      workdir: o.workdir === undefined ? 'build' : await stepString(o.workdir, ctx, 'workdir'),
      command: await stepValue(o.command, ctx),
      env: o.env === undefined ? {} : await stepValue(o.env, ctx),
      logfiles: {
        ...(o.logfiles === undefined ? {} : await stepLogfiles(o.logfiles, ctx)),
        ...extra.logfiles,
      },
    };
    // Unset options stay unset: shellArgs() fills in Buildbot's defaults.
    if (o.wantStdout !== undefined) a.wantStdout = await stepBoolean(o.wantStdout, ctx, 'wantStdout');
    if (o.wantStderr !== undefined) a.wantStderr = await stepBoolean(o.wantStderr, ctx, 'wantStderr');
    if (o.timeout !== undefined) a.timeout = await stepNumber(o.timeout, ctx, 'timeout');
    if (o.maxTime !== undefined) a.maxTime = await stepNumber(o.maxTime, ctx, 'maxTime');
    if (o.sigtermTime !== undefined) a.sigtermTime = await stepNumber(o.sigtermTime, ctx, 'sigtermTime');
    if (o.usePTY !== undefined) a.usePTY = await stepBoolean(o.usePTY, ctx, 'usePTY');
    if (o.logEnviron !== undefined) a.logEnviron = await stepBoolean(o.logEnviron, ctx, 'logEnviron');
    if (o.initialStdin !== undefined) a.initialStdin = await stepString(o.initialStdin, ctx, 'initialStdin');
    if (o.interruptSignal !== undefined)
      a.interruptSignal = await stepString(o.interruptSignal, ctx, 'interruptSignal');
    return shellArgs(a);
  }

  /** Runs the command with its output in the `stdio` log; subclasses add parsing around it. */
  protected async runShell(
    ctx: StepContext,
    collectStdout = false,
    extra: { readonly logfiles?: Logfiles } = {},
  ): Promise<RemoteCommandOutcome> {
    const args = await this.shellArgs(ctx, extra);
    const lazy =
      this.options.lazylogfiles === undefined
        ? false
        : await stepBoolean(this.options.lazylogfiles, ctx, 'lazylogfiles');
    // As Buildbot: stdio first, then each logfile's log, before the command starts. Lazily,
    // the build creates a logfile's log when the worker first sends content for it.
    if (!lazy) {
      await ctx.addLog('stdio');
      for (const name of Object.keys(args.logfiles as Logfiles)) await ctx.addLog(name);
    }
    return ctx.runCommand({ name: 'shell', args, logName: 'stdio', collectStdout });
  }

  /** The result an exit code gives under the (rendered) `decodeRC` table. */
  protected async decode(ctx: StepContext, rc: number | null): Promise<Result> {
    const table = this.options.decodeRC;
    return decodeRC(rc, table === undefined ? undefined : await stepDecodeRC(table, ctx));
  }

  async run(ctx: StepContext): Promise<Result> {
    const outcome = await this.runShell(ctx);
    return this.decode(ctx, outcome.rc);
  }
}

export function decodeRC(
  rc: number | null,
  table: Readonly<Record<number, Result>> = { 0: SUCCESS },
): Result {
  if (rc === null) return FAILURE;
  return table[rc] ?? FAILURE;
}

/** The logfiles map: each a file name, or `{ filename, follow }` (follow may be text). */
async function stepLogfiles(
  value: StepValue<Logfiles>,
  ctx: StepContext,
): Promise<Record<string, string | LogfileSpec>> {
  const v: unknown = await stepValue(value, ctx);
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new StepOptionError('logfiles', v, 'an object of log name → file');
  const out: Record<string, string | LogfileSpec> = {};
  for (const [name, file] of Object.entries(v)) {
    const option = `logfiles.${name}`;
    if (typeof file === 'string') {
      out[name] = file;
      continue;
    }
    const spec = typeof file === 'object' && file !== null ? (file as Record<string, unknown>) : null;
    if (typeof spec?.filename !== 'string')
      throw new StepOptionError(option, file, 'a file name or { filename, follow }');
    // The worker reads `follow` as a flag; sent only when given, as Buildbot passes the dict on.
    out[name] =
      spec.follow === undefined
        ? { filename: spec.filename }
        : {
            filename: spec.filename,
            follow: await stepBoolean(spec.follow as boolean, ctx, `${option}.follow`),
          };
  }
  return out;
}

/** A decodeRC table; keys and results may be text (a table from a JSON property). */
export async function stepDecodeRC(
  value: StepValue<Readonly<Record<number, Result>>>,
  ctx: StepContext,
): Promise<Record<number, Result>> {
  const v: unknown = await stepValue(value, ctx);
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new StepOptionError('decodeRC', v, 'an object of exit code → result');
  const table: Record<number, Result> = {};
  for (const [k, r] of Object.entries(v)) {
    const code = Number(k);
    const result = typeof r === 'string' && r.trim() !== '' ? Number(r) : r;
    if (!Number.isInteger(code)) throw new StepOptionError('decodeRC', v, 'keyed by exit codes');
    if (!isResult(result)) throw new StepOptionError(`decodeRC.${k}`, r, 'a result (0-6)');
    table[code] = result;
  }
  return table;
}

/** `shellCommand({ command: 'make' })` — a ShellCommand step. */
export function shellCommand(options: ShellCommandOptions): ShellCommand {
  return new ShellCommand(options);
}
