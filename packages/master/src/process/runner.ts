// The build runner: the distributor's BuildStarter. It starts a build on the assigned
// worker's connection, keeps it until it ends, releases the worker's slot, and lets the
// control channel stop builds. On master shutdown running builds end RETRY, so their
// requests run again on the next start.
//
// A reconfig that removes a builder cancels the builder's running builds (Buildbot lets them
// run on). Letting them finish would mean keeping the removed builder on its workers' lists
// for as long as they run: a worker told to drop a builder stops its command and never
// reports it, so the build would hang. They end CANCELLED and are recorded; `alwaysRun`
// steps still run, as the workers keep the builder until the reconfig finishes waiting.
import type { Assignment, BuildStarter, DistributorBuilder, WorkerSlot } from '../distributor/slots.js';
import type { EtaEstimate } from '../eta/estimator.js';
import type { Master } from '../master.js';
import { SecretManager } from '../properties/secrets.js';
import { CANCELLED, RETRY, type Result } from '../results.js';
import type { Service } from '../service.js';
import { isWorkerChannel } from '../workers/channel.js';
import { BuildRun } from './build.js';
import { MasterBuildRequester } from './requester.js';

/** The assigned worker has no connection that can run builds (it just went away). */
export class WorkerNotConnectedError extends Error {
  override readonly name = 'WorkerNotConnectedError';
  constructor(readonly worker: string) {
    super(`worker ${worker} is not connected`);
  }
}

export class BuildRunnerNotStartedError extends Error {
  override readonly name = 'BuildRunnerNotStartedError';
  constructor() {
    super('build runner: startBuild before the master started it');
  }
}

export interface RunningBuild {
  readonly buildid: number;
  readonly number: number;
  readonly builder: string;
  readonly worker: string;
  readonly buildrequestid: number;
  readonly currentStep: string | null;
  /** When the build should end (epoch seconds), from the builder's recent successful builds. */
  readonly eta: EtaEstimate | null;
  /** Settles with the build's result once it is recorded. */
  readonly finished: Promise<Result>;
}

export interface BuildRunnerOptions {
  /**
   * How long a reconfig waits for the cancelled builds of removed builders (default 30 s).
   * After that the workers drop the builders anyway; commands still open then end with the
   * master's BuilderDroppedError (workers/pb/connection.ts), so the builds still get recorded.
   */
  readonly removedBuilderGraceMs?: number;
}

export class BuildRunner implements BuildStarter, Service {
  readonly name = 'build-runner';
  #master: Master | null = null;
  readonly #removedBuilderGraceMs: number;

  constructor(options: BuildRunnerOptions = {}) {
    this.#removedBuilderGraceMs = options.removedBuilderGraceMs ?? 30_000;
  }
  readonly #running = new Map<number, { run: BuildRun; finished: Promise<Result> }>();

  async start(master: Master): Promise<void> {
    this.#master = master;
  }

  /** Ends running builds with RETRY (their requests run again) and waits for them. */
  async stop(): Promise<void> {
    await this.stopAll('master shutting down', RETRY);
    this.#master = null;
  }

  async startBuild(assignment: Assignment): Promise<void> {
    const master = this.#master;
    if (!master) throw new BuildRunnerNotStartedError();
    const worker = master.workers.get(assignment.worker.name);
    const channel = worker?.connection ?? null;
    if (!isWorkerChannel(channel) || !channel.connected)
      throw new WorkerNotConnectedError(assignment.worker.name);
    const run = await BuildRun.create(
      {
        data: master.data,
        masterid: master.masterid,
        logOptions: {
          flushBytes: master.config.logs.flushBytes,
          flushIntervalMs: master.config.logs.flushIntervalMs,
        },
        onError: (err, ctx) => (master.options.onError ?? defaultOnError)(err, ctx),
        locks: master.locks,
        secrets: new SecretManager(master.config.secretsProviders),
        properties: master.config.properties,
        masterBasedir: master.options.basedir,
        requester: (parent, sources) => new MasterBuildRequester(master, this, parent, sources),
      },
      assignment,
      channel,
    );
    const finished = run.run().finally(() => {
      this.#running.delete(run.buildid);
      assignment.worker.release();
    });
    this.#running.set(run.buildid, { run, finished });
  }

  /**
   * One build per builder per worker at a time, as Buildbot's WorkerForBuilder: the builds
   * would share the builder's directory, and a worker keeps one command per builder. A
   * worker that has not been told about the builder yet (a reconfig in flight) waits too.
   */
  canStart(builder: DistributorBuilder, worker: WorkerSlot): boolean {
    for (const { run } of this.#running.values()) {
      if (run.builderName === builder.name && run.workerName === worker.name) return false;
    }
    const channel = this.#master?.workers.get(worker.name)?.connection ?? null;
    return !isWorkerChannel(channel) || channel.hasBuilder(builder.name);
  }

  /** Stops every running build (e.g. `lathe stop` cancelling) and waits until they are recorded. */
  async stopAll(reason: string, result: Result = CANCELLED): Promise<void> {
    const all = [...this.#running.values()];
    for (const b of all) b.run.stop(reason, result);
    await Promise.allSettled(all.map((b) => b.finished));
  }

  /** Cancels the running builds of builders a reconfig removed and waits for them (bounded). */
  async buildersRemoved(names: readonly string[]): Promise<void> {
    const removed = new Set(names);
    const builds = [...this.#running.values()].filter((b) => removed.has(b.run.builderName));
    for (const b of builds) b.run.stop(`builder ${b.run.builderName} removed by reconfig`, CANCELLED);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(builds.map((b) => b.finished)),
      new Promise((r) => {
        timer = setTimeout(r, this.#removedBuilderGraceMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Stops a running build of this master; false if it is not running here. */
  stopBuild(buildid: number, reason = 'stopped by user', result: Result = CANCELLED): boolean {
    const b = this.#running.get(buildid);
    if (!b) return false;
    b.run.stop(reason, result);
    return true;
  }

  /** The builds running on this master now. */
  running(): RunningBuild[] {
    return [...this.#running.values()].map(({ run, finished }) => ({
      buildid: run.buildid,
      number: run.buildNumber,
      builder: run.builderName,
      worker: run.workerName,
      buildrequestid: run.assignment.request.id,
      currentStep: run.currentStep,
      eta: run.eta(),
      finished,
    }));
  }

  /** A running build, to wait for it or stop it. */
  get(buildid: number): RunningBuild | undefined {
    return this.running().find((b) => b.buildid === buildid);
  }
}

function defaultOnError(err: unknown, context: string): void {
  console.error(`build runner: ${context}:`, err);
}
