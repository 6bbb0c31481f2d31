// The step contract between configuration and the build engine: a factory is an
// ordered list of steps, and a step runs against a context the engine provides. Nothing
// here runs anything; the build runner (process/step-context.ts) implements StepContext on
// top of the worker protocol.
import type { AnnotationStyle } from '../data/annotations.js';
import type { SourceStampPatch } from '../data/sourcestamps.js';
import type { LockAccess } from '../locks/definitions.js';
import type { LineConsumer } from '../logparsers/lines.js';
import type { TestOutcome, TestSummary } from '../logparsers/summary.js';
import type { WarningReport } from '../logparsers/warnings.js';
import type { Rendered } from '../properties/renderable.js';
import type { Result, ResultPolicy } from '../results.js';
import type { StepValue } from './args.js';

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

export interface AnnotationOptions {
  /** Default: the step's name. */
  readonly title?: string;
  /** Default `info`. */
  readonly style?: AnnotationStyle;
}

export interface StepLog {
  write(stream: 'o' | 'e' | 'h', text: string): Promise<void>;
  finish(): Promise<void>;
}

/** One source stamp of a build another step asks for. */
export interface SourceSpec {
  readonly repository: string;
  readonly branch: string | null;
  readonly revision: string | null;
  readonly project: string;
  readonly codebase: string;
}

export interface BuildsetRequest {
  /**
   * Triggerable schedulers to trigger, as Buildbot's Trigger names them: one buildset each,
   * for the scheduler's builders. Give this or `builderNames`.
   */
  readonly schedulerNames?: readonly string[];
  /** Builders asked for directly, in one buildset (Lathe's form from before triggerable schedulers). */
  readonly builderNames?: readonly string[];
  readonly sources: readonly SourceSpec[];
  /**
   * Given to the new builds. They leave this build here, so secrets in them arrive masked
   * (`<secret>`): a build that needs a secret looks it up itself with `secret(name)`.
   */
  readonly properties: Readonly<Record<string, unknown>>;
  /** The source recorded with each of `properties` (Buildbot's Trigger says "Trigger"); default "Buildset". */
  readonly propertiesSource?: string;
  /** Default with schedulerNames: each scheduler's own reason. */
  readonly reason?: string;
}

/** A request of a buildset a step added. */
export interface RequestedBuild {
  readonly builder: string;
  readonly buildrequestid: number;
  /** The request's page, in Buildbot's web UI routes (Lathe's UI is planned). */
  readonly url: string;
}

/** A build that started for one of the requests a step follows. */
export interface StartedBuild {
  readonly buildrequestid: number;
  readonly builder: string;
  readonly builderid: number;
  readonly buildid: number;
  readonly number: number;
  /** The build's page, in Buildbot's web UI routes (Lathe's UI is planned). */
  readonly url: string;
}

/** Reports started builds until `stop()`, which first reports any recorded but not yet reported. */
export interface BuildWatch {
  stop(): Promise<void>;
}

/** Starting and following other builds from a step (Trigger). */
export interface BuildRequester {
  /** The source stamps of the running build, as its request carried them. */
  readonly sources: readonly SourceSpec[];
  /** Adds buildsets with this build as their parent; one request per builder. */
  request(
    spec: BuildsetRequest,
  ): Promise<{ buildsetids: readonly number[]; requests: readonly RequestedBuild[] }>;
  /**
   * Calls `onStarted` once for each build of these requests, those already started included;
   * a retried request starts (and reports) another build.
   */
  watchBuilds(buildrequestids: readonly number[], onStarted: (build: StartedBuild) => void): BuildWatch;
  /** Resolves with the request's result once it is complete (after any retries). */
  wait(buildrequestid: number): Promise<Result>;
  /** Stops the request's build if it runs here, or cancels it if nobody claimed it yet. */
  cancel(buildrequestid: number, reason: string): Promise<void>;
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
  /** What the step is doing now, shown while it runs. */
  setState(text: string): Promise<void>;
  /**
   * What the step's state says once it has finished, e.g. `triggered b2: 1 success`; the
   * result is appended in parentheses unless it is SUCCESS, as Buildbot does. Without one
   * the finished step reads `<name> <result>`.
   */
  setResultSummary(text: string): void;
  addUrl(name: string, url: string): Promise<void>;
  /** Renders renderables (interpolate, prop, secret, renderable) inside a value for this build. */
  render<T>(value: T): Promise<Rendered<T>>;
  /**
   * Feeds the complete stdout/stderr lines of the step's log `name` to `consumer` (a
   * WarningCounter, a test result parser…). Lines are seen after secrets are redacted.
   */
  observeLog(name: string, consumer: LineConsumer): void;
  /**
   * Finishes the step's log `name` now (a last line without newline reaches the observers);
   * later writes to it are an error. Does nothing for a log never opened.
   */
  closeLog(name: string): Promise<void>;
  /** Records a per-build metric under this step (e.g. `artifact.size_bytes`). */
  setMetric(name: string, value: number): void;
  /** Records this step's warnings (metrics `warnings`, `step:<name>:warnings`). */
  recordWarnings(report: Pick<WarningReport, 'count'>): void;
  /** Records this step's test counts (metrics `tests.<kind>`, `step:<name>:tests.<kind>`). */
  recordTests(summary: TestSummary): void;
  /** The names of this builder's quarantined tests: their failures do not fail a Test step. */
  mutedTests(): Promise<ReadonlySet<string>>;
  /**
   * Records each test's outcome in the builder's per-test history (flaky detection), with
   * the tests quarantined when it ran.
   */
  recordTestHistory(outcomes: readonly TestOutcome[], muted: ReadonlySet<string>): Promise<void>;
  /**
   * Attaches Markdown to the build, shown (sanitised) on its page; more than 1 MiB is refused
   * with an AnnotationTooLargeError and nothing is stored.
   */
  addAnnotation(markdown: string, options?: AnnotationOptions): Promise<void>;
  /** The master's base directory: relative master-side paths (uploads, downloads) start here. */
  readonly masterBasedir: string;
  /** Other builds: what the Trigger step uses. */
  readonly builds: BuildRequester;
  /** The patch of the build's source stamp for `codebase` (a try job's), or null. */
  sourcePatch(codebase: string): Promise<SourceStampPatch | null>;
}

export interface BuildStep extends ResultPolicy {
  readonly name: string;
  /**
   * What the step is doing, shown as its state while it runs; a renderable or a function of
   * the step's context is rendered when the step starts.
   */
  readonly description?: StepValue<string>;
  /** Runs even after an earlier step halted the build (cleanup steps). */
  readonly alwaysRun?: boolean;
  /**
   * Whether to run, decided when the step's turn comes: a boolean, a renderable (e.g.
   * `prop('deploy')`, text such as "false" accepted) or a function of the step context;
   * false gives SKIPPED.
   */
  readonly doStepIf?: StepValue<boolean>;
  /** Hides the finished step in the UI when true (e.g. skipped or successful bookkeeping). */
  readonly hideStepIf?: boolean | ((result: Result, ctx: StepContext) => boolean | Promise<boolean>);
  /** Locks held while the step runs, taken all at once after the build's locks. */
  readonly locks?: readonly LockAccess[];
  run(ctx: StepContext): Promise<Result>;
}

export interface BuildFactory {
  readonly steps: readonly BuildStep[];
}

/** Builds a factory from steps, copying the list so later edits do not leak in. */
export function buildFactory(...steps: BuildStep[]): BuildFactory {
  return { steps: [...steps] };
}
