// One build from start to finish: record it, set its properties, check the worker is alive
// (Buildbot's ping + startBuild), run the factory's steps in order folding their results
// with Buildbot's rules, and finish it through `finishBuild` (RETRY gives the request back).
// A stop interrupts the running command and ends the build CANCELLED; losing the worker
// ends it RETRY.
import type { BuildStep } from '../config/steps.js';
import type { DataLayer } from '../data/index.js';
import { finishBuild } from '../data/lifecycle.js';
import type { Assignment } from '../distributor/slots.js';
import type { LogWriterOptions } from '../logs/writer.js';
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
import { type WorkerChannel, WorkerLostError } from '../workers/channel.js';
import { BuildStoppedError, type StepHost, StepRun } from './step-context.js';

export interface BuildDeps {
  readonly data: DataLayer;
  readonly masterid: number;
  readonly logOptions: LogWriterOptions;
  readonly onError: (err: unknown, context: string) => void;
}

export class BuildRun implements StepHost {
  /** The running step's: a stop interrupts it; `alwaysRun` steps after a stop run normally. */
  #stepAbort: AbortController | null = null;
  readonly #props = new Map<string, [unknown, string]>();
  #propWrites: Promise<unknown>[] = [];
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

  getProperty(name: string): unknown {
    return this.#props.get(name)?.[0];
  }

  setProperty(name: string, value: unknown, source: string): void {
    this.#props.set(name, [value, source]);
    this.#propWrites.push(this.data.builds.setProperty(this.buildid, name, value, source));
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
      await this.data.builds.setState(this.buildid, 'building');
      let halted = false;
      for (const step of this.steps) {
        if ((halted || this.stopped) && !step.alwaysRun) continue;
        const stepResult = await this.#runStep(step);
        const combined = combineStepResult(step, stepResult, result);
        result = combined.result;
        if (combined.terminate) halted = true;
      }
    } catch (err) {
      this.deps.onError(err, `build ${this.builderName}#${this.buildNumber}`);
      result = worstResult(result, EXCEPTION) ?? EXCEPTION;
    } finally {
      offLost();
    }
    if (this.#stopResult !== null) result = worstResult(result, this.#stopResult) ?? this.#stopResult;
    await Promise.allSettled(this.#propWrites);
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

  async #setupProperties(): Promise<void> {
    const { builder, worker, request } = this.assignment;
    // Lowest precedence first, as in Buildbot: builder, worker, sources, then what the
    // request carried (a forced build's properties), then the build's own identity.
    for (const [k, v] of Object.entries(builder.config.properties ?? {})) this.setProperty(k, v, 'Builder');
    // What the worker said about itself (host, os_*, numcpus, …) is worker info as in Buildbot.
    for (const [k, v] of Object.entries(this.channel.info)) {
      if (k !== 'worker_commands') this.setProperty(k, v, 'Worker');
    }
    for (const [k, v] of Object.entries(worker.properties)) this.setProperty(k, v, 'Worker');
    const ss = request.sources[0];
    if (ss) {
      this.setProperty('branch', ss.branch, 'Build');
      this.setProperty('revision', ss.revision, 'Build');
      this.setProperty('repository', ss.repository, 'Build');
      this.setProperty('codebase', ss.codebase, 'Build');
      this.setProperty('project', ss.project, 'Build');
    }
    const requested = await this.data.buildsets.properties(request.buildsetid);
    for (const [k, [v, source]] of Object.entries(requested)) this.setProperty(k, v, source);
    this.setProperty('buildername', builder.name, 'Builder');
    this.setProperty('buildnumber', this.buildNumber, 'Build');
    this.setProperty('workername', worker.name, 'Worker');
  }

  async #runStep(step: BuildStep): Promise<Result> {
    const { stepid, name } = await this.data.steps.add(this.buildid, step.name);
    this.#currentStep = name;
    await this.data.steps.start(stepid);
    const abort = new AbortController();
    this.#stepAbort = abort;
    const ctx = new StepRun(this, stepid, abort.signal);
    const stoppedBefore = this.stopped;
    let result: Result;
    try {
      if (step.doStepIf && !(await step.doStepIf(ctx))) result = SKIPPED;
      else result = await step.run(ctx);
    } catch (err) {
      if (err instanceof WorkerLostError) result = RETRY;
      else if (err instanceof BuildStoppedError) result = this.#stopResult ?? CANCELLED;
      else {
        result = EXCEPTION;
        await this.#logException(ctx, err);
      }
    }
    // A step the stop caught mid-run ends as the stop says, whatever its command returned.
    if (!stoppedBefore && this.#stopResult !== null && result !== SKIPPED) result = this.#stopResult;
    await Promise.allSettled(this.#propWrites);
    await ctx.finish();
    await this.data.steps.setState(stepid, `${name} ${resultName(result)}`);
    await this.data.steps.finish(stepid, result);
    this.#currentStep = null;
    this.#stepAbort = null;
    return result;
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
