// The argument dictionaries Buildbot 3.7's master sends for worker commands, key for key and
// in its order, so a stock worker sees exactly what it would get from Buildbot.
import type { StepContext } from '../config/steps.js';

export type EnvValue = string | readonly string[] | null;
/** A value, or a function computing it from the build's properties when the step runs. */
export type StepValue<T> = T | ((ctx: StepContext) => T);

export function stepValue<T>(value: StepValue<T>, ctx: StepContext): T {
  return typeof value === 'function' ? (value as (ctx: StepContext) => T)(ctx) : value;
}

export interface ShellArgs {
  readonly workdir: string;
  readonly command: string | readonly string[];
  readonly env?: Readonly<Record<string, EnvValue>>;
  readonly wantStdout?: boolean | 0 | 1;
  readonly wantStderr?: boolean | 0 | 1;
  /** Files on the worker (relative to workdir) whose content is streamed into logs of these names. */
  readonly logfiles?: Readonly<Record<string, string>>;
  /** Seconds without output before the worker kills the command; default 1200, null for none. */
  readonly timeout?: number | null;
  /** Seconds in total before the worker kills the command; default none. */
  readonly maxTime?: number | null;
  readonly sigtermTime?: number | null;
  readonly usePTY?: boolean;
  readonly logEnviron?: boolean;
  readonly initialStdin?: string | null;
  /** Signal name without SIG; default KILL. null leaves it out (the worker's default, KILL). */
  readonly interruptSignal?: string | null;
}

export function shellArgs(a: ShellArgs): Record<string, unknown> {
  const args: Record<string, unknown> = {
    workdir: a.workdir,
    env: { ...(a.env ?? {}) },
    want_stdout: a.wantStdout ?? true,
    want_stderr: a.wantStderr ?? true,
    logfiles: { ...(a.logfiles ?? {}) },
    timeout: a.timeout === undefined ? 1200 : a.timeout,
    maxTime: a.maxTime ?? null,
    sigtermTime: a.sigtermTime ?? null,
    usePTY: a.usePTY ?? false,
    logEnviron: a.logEnviron ?? true,
    initial_stdin: a.initialStdin ?? null,
  };
  // Buildbot's RemoteShellCommand sends interruptSignal only when set, and the command last.
  const signal = a.interruptSignal === undefined ? 'KILL' : a.interruptSignal;
  if (signal !== null) args.interruptSignal = signal;
  args.command = typeof a.command === 'string' ? a.command : [...a.command];
  return args;
}
