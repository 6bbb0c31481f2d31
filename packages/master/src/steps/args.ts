// The argument dictionaries Buildbot 3.7's master sends for worker commands, key for key and
// in its order, so a stock worker sees exactly what it would get from Buildbot.

import type { Renderable } from '../properties/renderable.js';
import type { StepContext } from './contract.js';

export type EnvValue = string | readonly string[] | null;

/** T where any part may be a renderable (an `interpolate`, `prop`, `secret`…) rendered at run time. */
export type Renderably<T> =
  | Renderable<T>
  | (T extends string | number | boolean | null | undefined
      ? T
      : // A RegExp is a value (render passes it through), not an object of renderable parts.
        T extends RegExp
        ? T
        : T extends readonly (infer E)[]
          ? readonly Renderably<E>[]
          : T extends object
            ? { readonly [K in keyof T]: Renderably<T[K]> }
            : T);

/**
 * A step argument: a value that may contain renderables (`interpolate('%(prop:branch)s')`,
 * `secret('token')`…), or a function computing it from the step's context when it runs.
 */
export type StepValue<T> = Renderably<T> | ((ctx: StepContext) => Renderably<T> | Promise<Renderably<T>>);

/** The value a step argument has for this build: functions called, renderables rendered. */
export async function stepValue<T>(value: StepValue<T>, ctx: StepContext): Promise<T> {
  const v = typeof value === 'function' ? await (value as (ctx: StepContext) => unknown)(ctx) : value;
  return (await ctx.render(v)) as T;
}

/**
 * A logfile in Buildbot's full form: with `follow`, only what is appended after the
 * command starts is sent, not what the file already held.
 */
export interface LogfileSpec {
  readonly filename: string;
  readonly follow?: boolean;
}

/** Log name → file on the worker (relative to workdir), as a path or in the full form. */
export type Logfiles = Readonly<Record<string, string | LogfileSpec>>;

export interface ShellArgs {
  readonly workdir: string;
  readonly command: string | readonly string[];
  readonly env?: Readonly<Record<string, EnvValue>>;
  readonly wantStdout?: boolean | 0 | 1;
  readonly wantStderr?: boolean | 0 | 1;
  /** Files on the worker (relative to workdir) whose content is streamed into logs of these names. */
  readonly logfiles?: Logfiles;
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
