// The minimal contract between configuration and the build engine: a factory is an
// ordered list of steps, and a step runs against a context the engine provides. Nothing
// here runs anything; the build runner (a later issue) implements StepContext on top of the
// worker protocol.
import type { Result, ResultPolicy } from '../results.js';

/** A command for the worker, as Buildbot's remote commands name them (shell, mkdir, …). */
export interface RemoteCommand {
  readonly name: string;
  readonly args: Readonly<Record<string, unknown>>;
  /** Receives the command's output streams while it runs. */
  readonly logName?: string;
  /** Also hand the command's stdout back in the outcome (e.g. `git rev-parse HEAD`). */
  readonly collectStdout?: boolean;
}

export interface RemoteCommandOutcome {
  readonly rc: number | null;
  readonly interrupted: boolean;
  /** Every value the worker sent per update key other than the output streams and rc. */
  readonly updates: Readonly<Record<string, readonly unknown[]>>;
  /** The collected stdout when `collectStdout` was asked for, else ''. */
  readonly stdout?: string;
}

export interface StepLog {
  write(stream: 'o' | 'e' | 'h', text: string): Promise<void>;
  finish(): Promise<void>;
}

export interface StepContext {
  readonly builderName: string;
  readonly buildNumber: number;
  readonly workerName: string;
  /** Aborted when the build is cancelled or the worker is lost. */
  readonly signal: AbortSignal;
  getProperty(name: string): unknown;
  setProperty(name: string, value: unknown, source: string): void;
  addLog(name: string): Promise<StepLog>;
  runCommand(command: RemoteCommand): Promise<RemoteCommandOutcome>;
  setState(text: string): Promise<void>;
  addUrl(name: string, url: string): Promise<void>;
}

export interface BuildStep extends ResultPolicy {
  readonly name: string;
  readonly description?: string;
  /** Runs even after an earlier step halted the build (cleanup steps). */
  readonly alwaysRun?: boolean;
  /** Decides at run time whether to run; false gives SKIPPED. */
  readonly doStepIf?: (ctx: StepContext) => boolean | Promise<boolean>;
  run(ctx: StepContext): Promise<Result>;
}

export interface BuildFactory {
  readonly steps: readonly BuildStep[];
}

/** Builds a factory from steps, copying the list so later edits do not leak in. */
export function buildFactory(...steps: BuildStep[]): BuildFactory {
  return { steps: [...steps] };
}
