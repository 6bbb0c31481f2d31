// One build from start to finish: set up (record it, its properties, a ping and
// `startBuild` on the worker, Buildbot's way), then for each of the factory's steps run it
// and record it, folding the results with Buildbot's rules, then finish it through
// `finishBuild` (RETRY gives the request back). A stop interrupts the running command and
// ends the build CANCELLED; losing the worker ends it RETRY. Build locks are held around the
// steps, step locks around each step's work. Collaborators keep the rest out of the loop:
// BuildProperties (and their masking), BuildLocks, and the progress listeners EtaPublisher
// and MetricsRecorder.

import type { DataLayer } from '../data/index.js';
import { finishBuildWhenWritable } from '../data/lifecycle.js';
import type { SourceStampPatch } from '../data/sourcestamps.js';
import type { Assignment } from '../distributor/slots.js';
import type { EtaEstimate } from '../eta/estimator.js';
import { LockWaitAbortedError } from '../locks/errors.js';
import type { LockManager } from '../locks/manager.js';
import type { LogWriterOptions } from '../logs/writer.js';
import type { BuildMetricsCollector } from '../metrics/collector.js';
import { Redactor } from '../properties/redactor.js';
import type { RenderContext } from '../properties/renderable.js';
import type { SecretManager } from '../properties/secrets.js';
import {
  CANCELLED,
  combineStepResult,
  EXCEPTION,
  RETRY,
  type Result,
  resultName,
  SKIPPED,
  SUCCESS,
  worstResult,
} from '../results.js';
import type { BuildRequester, BuildStep, SourceSpec } from '../steps/contract.js';
import { stepBoolean, stepString } from '../steps/option-values.js';
import { type WorkerChannel, WorkerLostError } from '../workers/channel.js';
import { BuildLocks } from './build-locks.js';
import { allOf, type BuildProgressListener, type ProgressStep } from './build-progress.js';
import { BuildProperties, type RequestedProperties, readRequestedProperties } from './build-properties.js';
import { EtaPublisher } from './eta-publisher.js';
import { MetricsRecorder } from './metrics-recorder.js';
import { BuildStoppedError, type StepHost, StepRun } from './step-context.js';
import { recordStepEnd } from './step-record.js';
import type { BuiltSource } from './test-revision.js';

export interface BuildDeps {
  readonly data: DataLayer;
  readonly masterid: number;
  readonly logOptions: LogWriterOptions;
  readonly onError: (err: unknown, context: string) => void;
  readonly locks: LockManager;
  readonly secrets: SecretManager;
  /** The config's global properties (lowest precedence). */
  readonly properties: Readonly<Record<string, unknown>>;
  readonly masterBasedir: string;
  /** Seconds since the epoch; tests may pin it. */
  readonly now?: () => number;
  /** How many recent successful builds the ETA learns from; default 10. */
  readonly etaHistory?: number;
  /** Lets this build's steps start and follow other builds (Trigger). */
  readonly requester: (
    parent: { buildid: number; builderName: string },
    sources: readonly SourceSpec[],
  ) => BuildRequester;
}

const nowSeconds = () => Date.now() / 1000;

export class BuildRun implements StepHost {
  /** The running step's: a stop interrupts it; `alwaysRun` steps after a stop run normally. */
  #stepAbort: AbortController | null = null;
  /** Aborted by a stop: a build still waiting for its locks gives up. */
  readonly #buildAbort = new AbortController();
  readonly redactor = new Redactor();
  readonly renderContext: RenderContext;
  readonly #props: BuildProperties;
  readonly #locks: BuildLocks;
  readonly #eta: EtaPublisher;
  #workerReady: Promise<void> = Promise.resolve();
  /** The names its steps were given, in order: this build adds them all. */
  readonly #stepNames: string[] = [];
  readonly #metrics = new MetricsRecorder();
  readonly #progress: BuildProgressListener;
  readonly #now: () => number;
  #builds: BuildRequester | null = null;
  /** The steps' results folded so far. */
  #result: Result = SUCCESS;
  #stopResult: Result | null = null;
  #stopReason: string | null = null;
  #currentStep: string | null = null;
  #onStop!: () => void;
  /** Settles when the build is stopped: waits on the worker give up then. */
  readonly #stoppedSignal = new Promise<void>((resolve) => {
    this.#onStop = resolve;
  });
  readonly steps: readonly BuildStep[];

  private constructor(
    readonly deps: BuildDeps,
    readonly assignment: Assignment,
    readonly channel: WorkerChannel,
    readonly buildid: number,
    readonly buildNumber: number,
    private readonly requested: Promise<RequestedProperties>,
  ) {
    // The factory as of now: a reconfig during the build must not change its steps.
    this.steps = [...assignment.builder.config.factory.steps];
    this.#now = deps.now ?? nowSeconds;
    this.#props = new BuildProperties(deps.data, buildid, this.redactor);
    this.#locks = new BuildLocks(deps.locks, assignment.worker.name, deps.onError);
    this.#eta = new EtaPublisher(
      deps.data.bus,
      { buildid, builderid: assignment.builder.builderid, number: buildNumber },
      this.#now,
    );
    this.#progress = allOf([this.#eta, this.#metrics]);
    const sources = assignment.request.sources;
    this.renderContext = {
      properties: this.#props.properties,
      sourceStamp: (codebase) => {
        const ss = sources.find((s) => s.codebase === codebase) ?? (codebase === '' ? sources[0] : undefined);
        return ss ? { ...ss } : undefined;
      },
      workerInfo: channel.info,
      getSecret: deps.secrets.forBuild(this.redactor),
    };
  }

  /** Records the build; it runs when `run()` is called. */
  static async create(deps: BuildDeps, assignment: Assignment, channel: WorkerChannel): Promise<BuildRun> {
    // The request's properties are read while the build is numbered: they do not need it.
    const requested = readRequestedProperties(deps.data, assignment.request);
    // Awaited by run(); a failure is reported there, not as an unhandled rejection now.
    requested.catch(() => {});
    const { buildid, number } = await deps.data.builds.add({
      builderid: assignment.builder.builderid,
      buildrequestid: assignment.request.id,
      workerid: assignment.worker.workerid,
      masterid: deps.masterid,
      // Its first state: one write less before the first command than setting it after.
      stateString: 'preparing worker',
      request: assignment.request,
    });
    return new BuildRun(deps, assignment, channel, buildid, number, requested);
  }

  get data(): DataLayer {
    return this.deps.data;
  }
  get logOptions(): LogWriterOptions {
    return this.deps.logOptions;
  }
  get builderName(): string {
    return this.assignment.builder.name;
  }
  get builderid(): number {
    return this.assignment.builder.builderid;
  }
  get builtSources(): readonly BuiltSource[] {
    return this.assignment.request.sources;
  }
  get workerName(): string {
    return this.assignment.worker.name;
  }
  get stopReason(): string | null {
    return this.#stopReason;
  }
  get stopped(): boolean {
    return this.#stopResult !== null;
  }
  get currentStep(): string | null {
    return this.#currentStep;
  }
  get masterBasedir(): string {
    return this.deps.masterBasedir;
  }
  get metrics(): BuildMetricsCollector {
    return this.#metrics.collector;
  }

  async sourcePatch(codebase: string): Promise<SourceStampPatch | null> {
    const sources = this.assignment.request.sources;
    const ss = sources.find((s) => s.codebase === codebase) ?? (codebase === '' ? sources[0] : undefined);
    return ss?.hasPatch ? this.data.sourcestamps.patch(ss.sourcestampid) : null;
  }

  get builds(): BuildRequester {
    if (!this.#builds) {
      const inner = this.deps.requester(
        { buildid: this.buildid, builderName: this.builderName },
        this.assignment.request.sources.map((s) => ({
          repository: s.repository,
          branch: s.branch,
          revision: s.revision,
          project: s.project,
          codebase: s.codebase,
        })),
      );
      // Properties given to other builds leave this one: they are stored with the new
      // buildset and shown with those builds, which do not know this build's secrets.
      this.#builds = {
        sources: inner.sources,
        request: (spec) =>
          inner.request({
            ...spec,
            properties: this.#props.masked(spec.properties),
            reason: this.#props.masked(spec.reason),
          }),
        watchBuilds: (ids, onStarted) => inner.watchBuilds(ids, onStarted),
        wait: (id) => inner.wait(id),
        cancel: (id, reason) => inner.cancel(id, reason),
      };
    }
    return this.#builds;
  }

  /** When the build should end, from the builder's recent successful builds; null before it runs steps. */
  eta(): EtaEstimate | null {
    return this.#eta.estimate();
  }

  stepOutput(step: string, lines: number): void {
    this.#progress.stepOutput(step, lines, this.#now());
  }

  getProperty(name: string): unknown {
    return this.#props.get(name);
  }

  setProperty(name: string, value: unknown, source: string): void {
    this.#props.set(name, value, source);
  }

  /**
   * Stops the build: running commands are interrupted, only `alwaysRun` steps still run, and
   * the build ends with `result` (CANCELLED for a user stop, RETRY when the worker is lost).
   */
  stop(reason: string, result: Result = CANCELLED): void {
    if (this.#stopResult !== null) return;
    this.#stopResult = result;
    this.#stopReason = reason;
    this.#stepAbort?.abort(reason);
    this.#buildAbort.abort(reason);
    this.#onStop();
  }

  /** Runs the build to its end and records the result; never throws. */
  async run(): Promise<Result> {
    const offLost = this.channel.onDisconnect((why) => this.stop(`worker lost: ${why}`, RETRY));
    try {
      this.#eta.loadHistory(this.data, this.deps.etaHistory ?? 10, (err) =>
        this.deps.onError(err, `build ${this.builderName}#${this.buildNumber}: loading ETA history`),
      );
      // The worker's ping and startBuild go out now; the properties and the build's state
      // are written during their round trip, and the steps begin once it is over.
      this.#workerReady = this.#prepareWorker();
      await this.#props.setUp({
        globals: this.deps.properties,
        assignment: this.assignment,
        buildNumber: this.buildNumber,
        requested: this.requested,
      });
      // A build stopped before it got its locks runs nothing, not even alwaysRun steps: they
      // would run without the locks that protect them.
      await this.#locks.hold(
        this.assignment.builder.config.locks ?? [],
        {
          owner: `build ${this.buildNumber} of ${this.builderName}`,
          signal: this.#buildAbort.signal,
          onWaiting: () => this.data.builds.setState(this.buildid, 'waiting for locks'),
        },
        () => this.#runSteps(),
      );
    } catch (err) {
      if (!(err instanceof LockWaitAbortedError)) {
        this.deps.onError(err, `build ${this.builderName}#${this.buildNumber}`);
        this.#result = worstResult(this.#result, EXCEPTION) ?? EXCEPTION;
      }
    } finally {
      offLost();
    }
    // A worker that failed its ping stopped the build (RETRY) even if no command ran.
    await this.#workerReady;
    return this.#finish();
  }

  /**
   * Buildbot's ping and `startBuild`; a worker that fails them is dropped and the build ends
   * RETRY. Both calls go out together (a worker answers in order, so one that fails the ping
   * fails `startBuild` too): a round trip to the worker less before the first command, which
   * on a busy machine is the wait for the worker process to be scheduled.
   */
  async #prepareWorker(): Promise<void> {
    try {
      // A worker that never answers must not keep a stopped build from ending.
      const prepared = Promise.all([this.channel.ping(), this.channel.startBuild(this.builderName)]);
      // Once the stop won the race, a late failure has nobody left to tell.
      prepared.catch(() => {});
      await Promise.race([prepared, this.#stoppedSignal]);
    } catch (err) {
      // Buildbot drops a worker that fails its ping; the build is retried elsewhere or later.
      this.deps.onError(
        err,
        `build ${this.builderName}#${this.buildNumber}: worker ${this.workerName} failed its ping`,
      );
      this.stop('worker did not answer', RETRY);
      void this.channel.disconnect('worker failed its ping').catch(() => {});
    }
  }

  async #runSteps(): Promise<void> {
    await this.data.builds.setState(this.buildid, 'building', this.builderid);
    await this.#eta.start(this.steps.map((s) => s.name));
    // No step begins before the worker answered the ping; a build stopped by then (for not
    // answering it, say) runs nothing, as if it had been stopped before its locks.
    await this.#workerReady;
    if (this.stopped) return;
    let halted = false;
    for (const step of this.steps) {
      if ((halted || this.stopped) && !step.alwaysRun) {
        this.#progress.stepSkipped(step.name);
        continue;
      }
      const combined = combineStepResult(step, await this.#runStep(step), this.#result);
      this.#result = combined.result;
      if (combined.terminate) halted = true;
    }
  }

  /** Records the build's end: its result (worsened by a stop), properties and metrics. */
  async #finish(): Promise<Result> {
    const result =
      this.#stopResult === null
        ? this.#result
        : (worstResult(this.#result, this.#stopResult) ?? this.#stopResult);
    await this.#props.settle();
    try {
      await this.#metrics.record(this.data, this.buildid, this.#now());
    } catch (err) {
      this.deps.onError(err, `build ${this.builderName}#${this.buildNumber}: recording metrics`);
    }
    try {
      await finishBuildWhenWritable(
        this.data,
        {
          buildid: this.buildid,
          results: result,
          masterid: this.deps.masterid,
          buildrequestids: [this.assignment.request.id],
          stateString: this.#stopReason
            ? `${resultName(result)}: ${this.#stopReason}`
            : `build ${resultName(result)}`,
        },
        this.deps.onError,
      );
    } catch (err) {
      this.deps.onError(err, `finishing build ${this.builderName}#${this.buildNumber}`);
    }
    return result;
  }

  /** Runs one step, then records it: its logs closed, its progress told, its end stored. */
  async #runStep(step: BuildStep): Promise<Result> {
    const { stepid, name } = await this.data.steps.add(this.buildid, step.name, {
      started: true,
      taken: this.#stepNames,
    });
    this.#stepNames.push(name);
    this.#currentStep = name;
    const abort = new AbortController();
    this.#stepAbort = abort;
    const ctx = new StepRun(this, stepid, name, abort.signal);
    const progress: ProgressStep = { stepid, name, factoryName: step.name };
    const stoppedBefore = this.stopped;
    // Set when the step's own work begins: time spent waiting for locks is not its duration.
    let startedAt: number | null = null;
    let result: Result;
    try {
      result = await this.#doStep(step, ctx, (at) => {
        startedAt = at;
        this.#progress.stepStarted(progress, at);
      });
    } catch (err) {
      result = await this.#stepFailed(err, ctx);
    }
    // A step the stop caught mid-run ends as the stop says, whatever its command returned.
    if (!stoppedBefore && this.#stopResult !== null && result !== SKIPPED) result = this.#stopResult;
    await this.#props.settle();
    await ctx.finish();
    this.#progress.stepEnded(
      progress,
      startedAt === null ? null : { startedAt, endedAt: this.#now(), outputLines: ctx.outputLines },
    );
    await recordStepEnd(this.data, step, ctx, result, this.deps.onError);
    this.#currentStep = null;
    this.#stepAbort = null;
    return result;
  }

  /** The step's work under its locks, unless `doStepIf` skips it; `onStarted` when it begins. */
  async #doStep(step: BuildStep, ctx: StepRun, onStarted: (at: number) => void): Promise<Result> {
    if (step.doStepIf !== undefined && !(await stepBoolean(step.doStepIf, ctx, 'doStepIf'))) return SKIPPED;
    let waited = false;
    const wait = {
      owner: `step ${ctx.stepName} of build ${this.buildNumber} of ${this.builderName}`,
      signal: ctx.signal,
      onWaiting: () => {
        waited = true;
        return this.data.steps.setState(ctx.stepid, 'waiting for locks');
      },
    };
    return this.#locks.hold(step.locks ?? [], wait, async () => {
      onStarted(this.#now());
      // Rendered now, with the properties earlier steps set; through the step context,
      // so a secret in it is masked like any state text.
      if (step.description !== undefined)
        await ctx.setState(await stepString(step.description, ctx, 'description'));
      else if (waited) await this.data.steps.setState(ctx.stepid, ctx.stepName);
      return step.run(ctx);
    });
  }

  /** The result of a step that threw: RETRY for a lost worker, the stop's for a stop, else EXCEPTION (logged). */
  async #stepFailed(err: unknown, ctx: StepRun): Promise<Result> {
    if (err instanceof WorkerLostError) return RETRY;
    if (err instanceof BuildStoppedError || err instanceof LockWaitAbortedError)
      return this.#stopResult ?? CANCELLED;
    try {
      const log = await ctx.addLog('err.text');
      await log.write('h', `${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    } catch (logErr) {
      this.deps.onError(logErr, `logging an exception of ${this.builderName}#${this.buildNumber}`);
    }
    return EXCEPTION;
  }
}
