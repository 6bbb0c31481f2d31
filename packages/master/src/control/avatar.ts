// The administrative perspective: what a logged-in `lathe` client may do to a running
// master. Methods named `perspective_*` are the whole remote surface.
import { Avatar, PBError, type RemoteReference } from '@lathe/pb';
import type { EtaEstimate } from '../eta/estimator.js';
import type { Master } from '../master.js';
import { LatentWorkerService } from '../workers/latent/service.js';
import {
  type BuildSelector,
  cancelRequest,
  forceOne,
  type StopRunningBuild,
  stopBuild,
} from './build-actions.js';
import { buildReport } from './build-report.js';
import { BuildFollower } from './follow.js';
import type {
  BuildReport,
  CancelRequestResult,
  ClusterMasterStatus,
  ForceEvent,
  ForceResult,
  MasterStatus,
  PendingRequestStatus,
  ReconfigOutcome,
  RunningBuildStatus,
  SchedulerStatus,
  StopBuildResult,
  WorkerActionResult,
  WorkerStatus,
} from './protocol.js';
import type { ReconfigTracker } from './reconfig-tracker.js';
import { applyWorkerAction, workerState } from './worker-actions.js';

/** What the control channel needs from the process that runs the master. */
export interface ControlTarget {
  readonly master: Master;
  readonly startedAt: number;
  readonly reconfigs: ReconfigTracker;
  /** False once shutdown has begun: no new builds are accepted. */
  accepting(): boolean;
  /** A running build's estimate, from the build runner; absent when none is attached. */
  eta?(buildid: number): EtaEstimate | null;
  /** Stops a build this master runs; absent when no build runner is attached. */
  readonly stopBuild?: StopRunningBuild;
  /** The master's log, for what the control channel changed (a stop and its reason). */
  log?(line: string): void;
}

const MAX_WAIT_MS = 10 * 60_000;

export class ControlAvatar extends Avatar {
  readonly #followers = new Set<BuildFollower>();

  constructor(private readonly target: ControlTarget) {
    super();
  }

  async perspective_status(): Promise<MasterStatus> {
    const { master } = this.target;
    const workerNames = new Map<number, string>();
    const workers: WorkerStatus[] = [];
    for (const w of master.workers.values()) {
      workerNames.set(w.workerid, w.name);
      const row = await master.data.workers.get(w.workerid);
      workers.push({
        name: w.name,
        connected: w.connected,
        state: workerState(w),
        runningBuilds: w.runningBuilds,
        maxBuilds: w.maxBuilds,
        info: w.connected ? (row?.info ?? {}) : {},
        ...(w instanceof LatentWorkerService && { latent: latentSummary(w) }),
      });
    }
    const builderNames = new Map<number, string>();
    const pending: PendingRequestStatus[] = [];
    for (const b of master.builders.values()) {
      builderNames.set(b.builderid, b.name);
      for (const r of await master.data.buildrequests.pendingForBuilder(b.builderid)) {
        pending.push({
          buildrequestid: r.id,
          buildsetid: r.buildsetid,
          builder: b.name,
          priority: r.priority,
          submittedAt: r.submittedAt,
          claimed: false,
        });
      }
    }
    const builds: RunningBuildStatus[] = [];
    for (const b of await master.data.builds.unfinishedOf(master.masterid)) {
      const eta = this.target.eta?.(b.id) ?? null;
      const current = (await master.data.steps.forBuild(b.id)).findLast(
        (s) => s.startedAt !== null && s.completeAt === null,
      );
      builds.push({
        buildid: b.id,
        builder: builderNames.get(b.builderid) ?? `builder ${b.builderid}`,
        number: b.number,
        worker: b.workerid === null ? null : (workerNames.get(b.workerid) ?? `worker ${b.workerid}`),
        startedAt: b.startedAt,
        state: b.stateString,
        currentStep: current?.name ?? null,
        // null rather than absent: the protocol is plain data for any PB client.
        eta: eta?.buildEta ?? null,
        stepEta: eta?.stepEta ?? null,
        progress: eta?.progress ?? null,
      });
    }
    const leases = await master.data.leases.list();
    const now = master.data.ctx.now();
    const masters = (await master.data.masters.list()).map(
      (m): ClusterMasterStatus => ({
        masterid: m.id,
        name: m.name,
        active: m.active,
        lastHeartbeat: m.lastActive,
        owns: leases.filter((l) => l.masterid === m.id && l.expiresAt >= now).map((l) => l.name),
      }),
    );
    return {
      name: master.name,
      masterid: master.masterid,
      basedir: master.options.basedir,
      pid: process.pid,
      startedAt: this.target.startedAt,
      accepting: this.target.accepting(),
      canRunBuilds: master.distributor !== null,
      workers,
      builds,
      pending: pending.sort((a, b) => a.buildrequestid - b.buildrequestid),
      schedulers: [...master.schedulers.values()].map(
        (s): SchedulerStatus => ({
          name: s.name,
          builderNames: s.config.builderNames,
          ...(s.status?.() ?? { kind: s.config.kind, nextRunAt: null, lastRunAt: null }),
        }),
      ),
      reporters: await master.reporters.status(),
      roles: master.roles,
      masters,
    };
  }

  /**
   * Forces one builder through a force scheduler (`options.scheduler`, else the first that
   * may force it): one source stamp from the given repository/branch/revision, empty by
   * default; `options.properties` are the scheduler's parameters. If `listener` is given,
   * its `event(ev)` is called with each ForceEvent until the buildset completes or the
   * client goes away.
   */
  async perspective_force(builderName: unknown, options: unknown, listener: unknown): Promise<ForceResult> {
    const { master } = this.target;
    if (typeof builderName !== 'string') throw new PBError('force: the builder name must be a string');
    if (!this.target.accepting()) throw new PBError('the master is shutting down and accepts no new builds');
    const opts = (options && typeof options === 'object' ? options : {}) as Record<string, unknown>;
    const str = (k: string) => (typeof opts[k] === 'string' ? (opts[k] as string) : undefined);
    const properties = opts.properties && typeof opts.properties === 'object' ? opts.properties : {};
    const builder = master.builders.get(builderName);
    const follower = builder && isRemote(listener) ? this.#follow(builder.builderid, listener) : null;
    try {
      const scheduler = str('scheduler');
      const ids = await forceOne(master, {
        builder: builderName,
        ...(scheduler === undefined ? {} : { scheduler }),
        owner: str('owner') ?? 'lathe',
        reason: str('reason') ?? 'forced with the lathe command',
        params: properties as Record<string, unknown>,
        source: {
          repository: str('repository') ?? '',
          branch: str('branch') ?? null,
          revision: str('revision') ?? null,
        },
      });
      follower?.begin(ids);
      const connectedWorkers = builder!.config.workerNames.filter(
        (n) => master.workers.get(n)?.connected,
      ).length;
      return { ...ids, canRunBuilds: master.distributor !== null, connectedWorkers };
    } catch (err) {
      follower?.stop();
      throw err;
    }
  }

  #follow(builderid: number, listener: RemoteReference): BuildFollower {
    // No answer wanted: waiting for one would hold up the bus consumer, and PB keeps the
    // calls in order on the connection anyway. A client that goes away ends the follow below.
    const send = (ev: ForceEvent) => {
      if (listener.connected) listener.callRemoteNoAnswer('event', ev);
    };
    const follower = new BuildFollower(this.target.master.bus, builderid, send);
    this.#followers.add(follower);
    listener.notifyOnDisconnect(() => {
      follower.stop();
      this.#followers.delete(follower);
    });
    return follower;
  }

  /**
   * Stops a running build (its result becomes CANCELLED, its state string names the reason).
   * `which` is `{builder, number}` or `{buildid}`.
   */
  async perspective_stopBuild(which: unknown, reason: unknown): Promise<StopBuildResult> {
    const selector = buildSelector(which);
    const why = reasonText(reason);
    const stopped = await stopBuild(this.target.master, this.target.stopBuild, selector, why);
    this.target.log?.(`control: stopping build #${stopped.number} of ${stopped.builder}: ${why}`);
    return stopped;
  }

  /** Cancels a pending build request (CANCELLED), or stops the build that runs it. */
  async perspective_cancelRequest(buildrequestid: unknown, reason: unknown): Promise<CancelRequestResult> {
    if (typeof buildrequestid !== 'number' || !Number.isInteger(buildrequestid))
      throw new PBError('cancelRequest: the build request id must be an integer');
    const why = reasonText(reason);
    const done = await cancelRequest(this.target.master, this.target.stopBuild, buildrequestid, why);
    this.target.log?.(
      done.outcome === 'cancelled'
        ? `control: cancelled build request ${buildrequestid} for ${done.builder}: ${why}`
        : `control: cancelling build request ${buildrequestid}: stopping build #${done.number} of ${done.builder}: ${why}`,
    );
    return done;
  }

  /** What a build left behind that explains its result; null for an unknown build. */
  perspective_buildReport(buildid: unknown): Promise<BuildReport | null> {
    if (typeof buildid !== 'number') throw new PBError('buildReport: the build id must be a number');
    return buildReport(this.target.master, buildid);
  }

  /** Stops giving the worker new builds; its running builds go on. */
  perspective_pauseWorker(name: unknown): Promise<WorkerActionResult> {
    return applyWorkerAction(this.target.master, name, 'pause');
  }

  perspective_unpauseWorker(name: unknown): Promise<WorkerActionResult> {
    return applyWorkerAction(this.target.master, name, 'unpause');
  }

  /** Shuts the worker process down once its running builds are done. */
  perspective_shutdownWorker(name: unknown): Promise<WorkerActionResult> {
    return applyWorkerAction(this.target.master, name, 'shutdown');
  }

  perspective_reconfigState(): ReconfigOutcome {
    return this.target.reconfigs.last;
  }

  /** Waits for a reconfig newer than `after`; null if none came within `timeoutMs`. */
  perspective_waitReconfig(after: unknown, timeoutMs: unknown): Promise<ReconfigOutcome | null> {
    const gen = typeof after === 'number' ? after : 0;
    const ms = typeof timeoutMs === 'number' ? Math.min(timeoutMs, MAX_WAIT_MS) : 30_000;
    return this.target.reconfigs.wait(gen, ms);
  }

  /** Called when the client logs out or disconnects. */
  logout(): void {
    for (const f of this.#followers) f.stop();
    this.#followers.clear();
  }
}

function buildSelector(v: unknown): BuildSelector {
  const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  if (typeof o.buildid === 'number') return { buildid: o.buildid };
  if (typeof o.builder === 'string' && typeof o.number === 'number')
    return { builder: o.builder, number: o.number };
  throw new PBError('stopBuild: name the build as {builder, number} or {buildid}');
}

function reasonText(v: unknown): string {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : 'stopped with the lathe command';
}

function isRemote(v: unknown): v is RemoteReference {
  return typeof v === 'object' && v !== null && typeof (v as RemoteReference).callRemote === 'function';
}

function latentSummary(w: LatentWorkerService): NonNullable<WorkerStatus['latent']> {
  const { state, failures, lastError, missing } = w.latentStatus;
  return { state, failures, lastError, missing };
}
