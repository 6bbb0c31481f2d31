// One build from start to finish: record it, set its properties, check the worker is alive
// (Buildbot's ping + startBuild), run the factory's steps in order folding their results
// with Buildbot's rules, and finish it through `finishBuild` (RETRY gives the request back).
// A stop interrupts the running command and ends the build CANCELLED; losing the worker
// ends it RETRY. Build locks are held around the steps, step locks around each step; both
// are released on every way out. Metrics are gathered per build and the ETA follows the
// steps' progress.

import type { DataLayer } from '../data/index.js';
import { finishBuild } from '../data/lifecycle.js';
import type { Assignment } from '../distributor/slots.js';
import { type EtaEstimate, EtaEstimator } from '../eta/estimator.js';
import { loadEtaHistory } from '../eta/load.js';
import { OutputTimeline } from '../eta/output-profile.js';
import type { LockAccess } from '../locks/definitions.js';
import { LockWaitAbortedError } from '../locks/errors.js';
import type { LockManager } from '../locks/manager.js';
import { withLocks } from '../locks/with-locks.js';
import type { LogWriterOptions } from '../logs/writer.js';
import { BuildMetricsCollector } from '../metrics/collector.js';
import { layerBuildProperties, Properties, PropertySources } from '../properties/properties.js';
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
import { BuildStoppedError, type StepHost, StepRun } from './step-context.js';

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

/** Output moves the ETA continuously; the bus hears about it at most this often. */
const ETA_OUTPUT_PUBLISH_MS = 1000;

export class BuildRun implements StepHost {
  /** The running step's: a stop interrupts it; `alwaysRun` steps after a stop run normally. */
  #stepAbort: AbortController | null = null;
  readonly #props = new Properties();
  #propWrites: Promise<unknown>[] = [];
  /** Each property as last handed to the database: `[value, source]` as JSON, secrets masked. */
  readonly #shownProps = new Map<string, string>();
  /** The redactor's version when every shown property was last checked for secrets. */
  #maskedWith = 0;
  /** Aborted by a stop: a build still waiting for its locks gives up. */
  readonly #buildAbort = new AbortController();
  readonly redactor = new Redactor();
  readonly metrics = new BuildMetricsCollector();
  readonly renderContext: RenderContext;
  #eta: EtaEstimator | null = null;
  #etaPublishedAt = Number.NEGATIVE_INFINITY;
  #currentStepId: number | null = null;
  readonly #now: () => number;
  /** The running step's output over time, for its output profile (eta/output-profile.ts). */
  #outputTimeline: OutputTimeline | null = null;
  #builds: BuildRequester | null = null;
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
  ) {
    // The factory as of now: a reconfig during the build must not change its steps.
    this.steps = [...assignment.builder.config.factory.steps];
    this.#now = deps.now ?? nowSeconds;
    const sources = assignment.request.sources;
    this.renderContext = {
      properties: this.#props,
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
    const { buildid, number } = await deps.data.builds.add({
      builderid: assignment.builder.builderid,
      buildrequestid: assignment.request.id,
      workerid: assignment.worker.workerid,
      masterid: deps.masterid,
    });
    return new BuildRun(deps, assignment, channel, buildid, number);
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
            properties: this.#masked(spec.properties),
            reason: this.#masked(spec.reason),
          }),
        watchBuilds: (ids, onStarted) => inner.watchBuilds(ids, onStarted),
        wait: (id) => inner.wait(id),
        cancel: (id, reason) => inner.cancel(id, reason),
      };
    }
    return this.#builds;
  }

  /**
   * The build's boundary for property values: steps render with the real values, while
   * everything that leaves the build (the database, and through it the UI, the bus and the
   * `lathe` commands; other builds' requests) gets the secrets this build used masked as
   * `<secret>`, the same as its logs.
   */
  #masked<T>(value: T): T {
    return this.redactor.redactValue(value);
  }

  /** When the build should end, from the builder's recent successful builds; null before it runs steps. */
  eta(): EtaEstimate | null {
    return this.#eta?.estimate(this.#now()) ?? null;
  }

  stepOutput(step: string, lines: number): void {
    this.#outputTimeline?.add(this.#now(), lines);
    this.#eta?.stepOutput(step, lines);
    this.#publishEta(true);
  }

  /** Tells the bus (the web UI, reporters) the current estimate; `throttled` for output. */
  #publishEta(throttled: boolean): void {
    if (!this.#eta?.hasHistory) return;
    const t = performance.now();
    if (throttled && t - this.#etaPublishedAt < ETA_OUTPUT_PUBLISH_MS) return;
    this.#etaPublishedAt = t;
    const e = this.#eta.estimate(this.#now());
    if (e.buildEta === undefined) return;
    this.data.bus.publish('build.eta', {
      buildid: this.buildid,
      builderid: this.assignment.builder.builderid,
      number: this.buildNumber,
      stepid: this.#currentStepId,
      stepEta: e.stepEta ?? null,
      buildEta: e.buildEta,
      progress: e.progress ?? null,
    });
  }

  getProperty(name: string): unknown {
    return this.#props.getProperty(name);
  }

  setProperty(name: string, value: unknown, source: string): void {
    this.#props.setProperty(name, value, source);
    this.#storeProperties([name]);
  }

  /** Hands the named properties, masked, to the database; unchanged ones are not written again. */
  #storeProperties(names: Iterable<string>): void {
    const changed: Record<string, [unknown, string]> = {};
    for (const name of names) {
      const source = this.#props.getSource(name);
      if (source === undefined) continue;
      const shown: [unknown, string] = [this.#masked(this.#props.getProperty(name)), source];
      const json = JSON.stringify(shown);
      if (this.#shownProps.get(name) === json) continue;
      this.#shownProps.set(name, json);
      changed[name] = shown;
    }
    if (Object.keys(changed).length > 0)
      this.#propWrites.push(this.data.builds.setProperties(this.buildid, changed));
  }

  /**
   * A secret the build used only after a property already held its value (a command printed
   * it before a step rendered it): mask it in the stored properties too.
   */
  #remaskProperties(): void {
    if (this.redactor.version === this.#maskedWith) return;
    this.#maskedWith = this.redactor.version;
    this.#storeProperties([...this.#props.entries()].map(([name]) => name));
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
    let result: Result = SUCCESS;
    const offLost = this.channel.onDisconnect((why) => this.stop(`worker lost: ${why}`, RETRY));
    try {
      await this.#setupProperties();
      await this.data.builds.setState(this.buildid, 'preparing worker');
      try {
        // A worker that never answers must not keep a stopped build from ending.
        const prepared = (async () => {
          await this.channel.ping();
          await this.channel.startBuild(this.builderName);
        })();
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
      const buildLocks = this.assignment.builder.config.locks ?? [];
      const runSteps = async () => {
        await this.data.builds.setState(this.buildid, 'building');
        await this.#startEta();
        let halted = false;
        for (const step of this.steps) {
          if ((halted || this.stopped) && !step.alwaysRun) {
            this.#eta?.stepSkipped(step.name);
            continue;
          }
          const stepResult = await this.#runStep(step);
          const combined = combineStepResult(step, stepResult, result);
          result = combined.result;
          if (combined.terminate) halted = true;
        }
      };
      // A build stopped before it got its locks runs nothing, not even alwaysRun steps: they
      // would run without the locks that protect them.
      if (buildLocks.length === 0) await runSteps();
      else
        await this.#withLocks(buildLocks, runSteps, () =>
          this.data.builds.setState(this.buildid, 'waiting for locks'),
        );
    } catch (err) {
      if (!(err instanceof LockWaitAbortedError)) {
        this.deps.onError(err, `build ${this.builderName}#${this.buildNumber}`);
        result = worstResult(result, EXCEPTION) ?? EXCEPTION;
      }
    } finally {
      offLost();
    }
    if (this.#stopResult !== null) result = worstResult(result, this.#stopResult) ?? this.#stopResult;
    this.#remaskProperties();
    await Promise.allSettled(this.#propWrites);
    await this.#flushMetrics();
    try {
      await finishBuild(this.data, {
        buildid: this.buildid,
        results: result,
        masterid: this.deps.masterid,
        buildrequestids: [this.assignment.request.id],
        stateString: this.#stopReason
          ? `${resultName(result)}: ${this.#stopReason}`
          : `build ${resultName(result)}`,
      });
    } catch (err) {
      this.deps.onError(err, `finishing build ${this.builderName}#${this.buildNumber}`);
    }
    return result;
  }

  /**
   * The build's initial properties in Buildbot's order, more specific sources winning:
   * global config, the properties of the changes being built, what the request carried (a scheduler's or forced build's properties,
   * with their own sources), builder, build (identity and source stamp), worker.
   */
  async #setupProperties(): Promise<void> {
    const { builder, worker, request } = this.assignment;
    const props = new Properties(this.deps.properties, PropertySources.config);
    const withChanges = request.sources.filter((s) => s.hasChanges).map((s) => s.sourcestampid);
    for (const changeProps of await this.data.changes.propertiesOf(withChanges))
      props.update(changeProps, PropertySources.change);
    const requested = await this.data.buildsets.properties(request.buildsetid);
    for (const [k, [v, source]] of Object.entries(requested)) {
      if (v !== undefined) props.setProperty(k, v, source);
    }
    const ss = request.sources[0];
    const build: Record<string, unknown> = { buildnumber: this.buildNumber };
    if (ss) {
      Object.assign(build, {
        branch: ss.branch,
        revision: ss.revision,
        repository: ss.repository,
        codebase: ss.codebase,
        project: ss.project,
      });
    }
    // What the worker said about itself (host, os_*, numcpus, …) is worker info as in Buildbot.
    const workerLayer: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.channel.info)) {
      if (k !== 'worker_commands' && v !== undefined) workerLayer[k] = v;
    }
    Object.assign(workerLayer, worker.properties, { workername: worker.name });
    props.updateFrom(
      layerBuildProperties({
        builder: { ...(builder.config.properties ?? {}), buildername: builder.name },
        build: Object.fromEntries(Object.entries(build).filter(([, v]) => v !== undefined)),
        worker: workerLayer,
      }),
    );
    this.#props.updateFrom(props);
    this.#storeProperties([...props.entries()].map(([name]) => name));
  }

  /** Takes `accesses` for `fn`; a stop while waiting ends the wait (LockWaitAbortedError). */
  #withLocks<T>(
    accesses: readonly LockAccess[],
    fn: () => Promise<T>,
    onWaiting: () => Promise<void>,
    signal: AbortSignal = this.#buildAbort.signal,
    owner = `build ${this.buildNumber} of ${this.builderName}`,
  ): Promise<T> {
    return withLocks(this.deps.locks, accesses, fn, {
      owner,
      worker: this.workerName,
      signal,
      onWaiting: () => {
        onWaiting().catch((err) => this.deps.onError(err, `${owner}: recording the lock wait`));
      },
    });
  }

  async #startEta(): Promise<void> {
    let history: Awaited<ReturnType<typeof loadEtaHistory>> = [];
    try {
      history = await loadEtaHistory(
        this.data,
        this.assignment.builder.builderid,
        this.deps.etaHistory ?? 10,
      );
    } catch (err) {
      // Without history the build runs the same, only without an ETA.
      this.deps.onError(err, `build ${this.builderName}#${this.buildNumber}: loading ETA history`);
    }
    this.#eta = new EtaEstimator(history, { steps: this.steps.map((s) => s.name) });
    this.#eta.buildStarted(this.#now());
  }

  async #flushMetrics(): Promise<void> {
    try {
      const build = await this.data.builds.get(this.buildid);
      if (build) this.metrics.buildFinished(Math.max(0, this.#now() - build.startedAt));
      await this.metrics.flush(this.data.metrics, this.buildid);
    } catch (err) {
      this.deps.onError(err, `build ${this.builderName}#${this.buildNumber}: recording metrics`);
    }
  }

  async #runStep(step: BuildStep): Promise<Result> {
    const { stepid, name } = await this.data.steps.add(this.buildid, step.name);
    this.#currentStep = name;
    this.#currentStepId = stepid;
    await this.data.steps.start(stepid);
    const abort = new AbortController();
    this.#stepAbort = abort;
    const ctx = new StepRun(this, stepid, name, abort.signal);
    const stoppedBefore = this.stopped;
    // Set when the step's own work begins: time spent waiting for locks is not its duration.
    let ranAt: number | null = null;
    let waited = false;
    let result: Result;
    try {
      if (step.doStepIf !== undefined && !(await stepBoolean(step.doStepIf, ctx, 'doStepIf')))
        result = SKIPPED;
      else {
        const run = async () => {
          ranAt = this.#now();
          this.#outputTimeline = new OutputTimeline(ranAt);
          this.#eta?.stepStarted(step.name, ranAt);
          this.#publishEta(false);
          // Rendered now, with the properties earlier steps set; through the step context,
          // so a secret in it is masked like any state text.
          if (step.description !== undefined)
            await ctx.setState(await stepString(step.description, ctx, 'description'));
          else if (waited) await this.data.steps.setState(stepid, name);
          return step.run(ctx);
        };
        const locks = step.locks ?? [];
        result =
          locks.length === 0
            ? await run()
            : await this.#withLocks(
                locks,
                run,
                () => {
                  waited = true;
                  return this.data.steps.setState(stepid, 'waiting for locks');
                },
                abort.signal,
                `step ${name} of build ${this.buildNumber} of ${this.builderName}`,
              );
      }
    } catch (err) {
      if (err instanceof WorkerLostError) result = RETRY;
      else if (err instanceof BuildStoppedError || err instanceof LockWaitAbortedError)
        result = this.#stopResult ?? CANCELLED;
      else {
        result = EXCEPTION;
        await this.#logException(ctx, err);
      }
    }
    // A step the stop caught mid-run ends as the stop says, whatever its command returned.
    if (!stoppedBefore && this.#stopResult !== null && result !== SKIPPED) result = this.#stopResult;
    this.#remaskProperties();
    await Promise.allSettled(this.#propWrites);
    await ctx.finish();
    if (ranAt !== null) {
      const endedAt = this.#now();
      this.#eta?.stepFinished(step.name, endedAt);
      const profile = this.#outputTimeline?.profile(endedAt, ctx.outputLines);
      this.metrics.stepFinished(name, Math.max(0, endedAt - ranAt), ctx.outputLines, profile);
    } else this.#eta?.stepSkipped(step.name);
    this.#outputTimeline = null;
    this.#currentStepId = null;
    this.#publishEta(false);
    const hidden = await this.#hidden(step, result, ctx);
    const summary = ctx.resultSummary;
    await this.data.steps.setState(
      stepid,
      summary === null
        ? `${name} ${resultName(result)}`
        : result === SUCCESS
          ? summary
          : `${summary} (${resultName(result)})`,
    );
    await this.data.steps.finish(stepid, result, hidden);
    this.#currentStep = null;
    this.#stepAbort = null;
    return result;
  }

  async #hidden(step: BuildStep, result: Result, ctx: StepRun): Promise<boolean> {
    const rule = step.hideStepIf;
    if (rule === undefined) return false;
    if (typeof rule === 'boolean') return rule;
    try {
      return !!(await rule(result, ctx));
    } catch (err) {
      // A broken rule must not change the build's result; the step stays visible.
      this.deps.onError(err, `step ${step.name}: hideStepIf`);
      return false;
    }
  }

  async #logException(ctx: StepRun, err: unknown): Promise<void> {
    try {
      const log = await ctx.addLog('err.text');
      await log.write('h', `${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    } catch (logErr) {
      this.deps.onError(logErr, `logging an exception of ${this.builderName}#${this.buildNumber}`);
    }
  }
}
