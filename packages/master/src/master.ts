// The master without its network faces: configuration, database, event bus, data layer,
// worker and builder services, build request distribution and housekeeping timers. The
// `lathe` CLI starts one of these; the PB worker port and the build runner attach to it
// (see `workers`, `WorkerService.attach` and `MasterOptions.buildStarter`).

import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Bisector } from './bisect/bisector.js';
import { BuilderService } from './builders/builder.js';
import { EventBus, type EventBusOptions, type Subscription } from './bus/bus.js';
import type { ChangeInput, ChangeSource, ChangeSourceContext } from './changes/change-source.js';
import { type ChangeSourceConfig, createChangeSource } from './changes/create.js';
import { PBUserRegistry } from './changes/pb-users.js';
import { OutboxRelay, type OutboxWakeup, PollingWakeup } from './cluster/outbox-relay.js';
import { LeaseOwnership } from './cluster/ownership.js';
import { leaseCandidates, placed, schedulerLease } from './cluster/placement.js';
import { PostgresWakeup } from './cluster/postgres-wakeup.js';
import { ServiceRecorder } from './cluster/service-records.js';
import type { MasterRole } from './config/cluster.js';
import { type ConfigDiff, diffConfigs, diffEntries } from './config/diff.js';
import type { ConfigError } from './config/errors.js';
import { loadConfig } from './config/loader.js';
import type { ResolvedBuilder, ResolvedConfig, ResolvedWorker } from './config/types.js';
import { cancelRequest } from './control/build-actions.js';
import { epochSeconds } from './data/context.js';
import {
  expireMasters,
  type HousekeepingReport,
  markStopped,
  registerAndRecover,
} from './data/housekeeping.js';
import { DataLayer, OUTBOX_CHANNEL } from './data/index.js';
import { type Db, type OpenDatabaseOptions, openAndMigrate } from './db/connection.js';
import { Distributor } from './distributor/distributor.js';
import type { BuildStarter } from './distributor/slots.js';
import { LockManager } from './locks/manager.js';
import { ReportersService } from './reporters/service.js';
import { type Clock, realClock } from './schedulers/clock.js';
import { type AnySchedulerConfig, createScheduler } from './schedulers/create.js';
import { SchedulerReconfigError, SchedulerSet } from './schedulers/scheduler-set.js';
import type { TrySchedulerContext } from './schedulers/try/job.js';
import { type ApplyResult, MultiService, type Service, ServiceSet } from './service.js';
import { removeUploadLeftovers } from './steps/transfer/upload-leftovers.js';
import { startLatentWorkersFor } from './workers/latent/demand.js';
import { LatentWorkerService } from './workers/latent/service.js';
import { WorkerService } from './workers/worker.js';

export const DEFAULT_CONFIG_FILE = 'master.config.ts';

export interface MasterOptions {
  /** The master directory: holds the config and, by default, the SQLite database. */
  readonly basedir: string;
  /** Default `master.config.ts` in basedir. */
  readonly configFile?: string;
  /** Identity in the shared database; default `<hostname>:<basedir>`, as Buildbot does. */
  readonly name?: string;
  /** Starts builds; without one, requests stay pending. `BuildRunner` (process/runner.ts) is the real one. */
  readonly buildStarter?: BuildStarter;
  /**
   * Parts that need the running master (the worker port, the build runner, the HTTP server),
   * started once the configuration is applied and before builds are distributed; more can be
   * added later with `master.addService`. `withWorkers()` (runtime.ts) adds the first two.
   */
  readonly services?: readonly Service[];
  readonly typecheckConfig?: boolean;
  readonly now?: () => number;
  /** The clock of the schedulers' timers (periodic, nightly, tree-stable); tests move one by hand. */
  readonly clock?: Clock;
  readonly bus?: EventBusOptions;
  /** How often to heartbeat, expire dead masters and poll for other masters' requests. */
  readonly housekeepingIntervalMs?: number;
  /** The database URL instead of the config's `db.url` (the tests run one config on both engines). */
  readonly dbUrl?: string;
  /** Sees every SQL statement the master sends (see OpenDatabaseOptions.onQuery). */
  readonly onQuery?: OpenDatabaseOptions['onQuery'];
  /** Called with problems of background work (a failed pass, a timer). */
  readonly onError?: (err: unknown, context: string) => void;
  /**
   * With `cluster` in the config: when to read other masters' events; default a poll every
   * `cluster.pollMs` on SQLite, LISTEN/NOTIFY on PostgreSQL (cluster/postgres-wakeup.ts).
   */
  readonly outboxWakeup?: OutboxWakeup;
}

export type ReconfigResult =
  | {
      readonly ok: true;
      readonly diff: ConfigDiff;
      readonly workers: ApplyResult;
      readonly builders: ApplyResult;
      readonly changeSources: ApplyResult;
      readonly schedulers: ApplyResult;
      readonly needsRestart: readonly string[];
    }
  | { readonly ok: false; readonly error: ConfigError | Error };

/** A running master's schedulers act on a change within milliseconds; a minute is ample. */
const UNSCHEDULED_GRACE_SECONDS = 60;

// Settings that only take effect when the master restarts.
const RESTART_SETTINGS = new Set(['dbUrl', 'workerPort', 'www', 'cluster']);

const NOTHING_APPLIED: ApplyResult = { added: [], reconfigured: [], replaced: [], removed: [] };

/** Every role: what a master without `cluster` does. */
const ALL_ROLES: readonly MasterRole[] = ['builds', 'schedulers', 'web'];

export class Master {
  /** One per master: lock state outlives reconfigs (locks are matched by kind and name). */
  readonly locks = new LockManager();
  readonly bus: EventBus;
  readonly data: DataLayer;
  readonly workers: ServiceSet<ResolvedWorker, WorkerService>;
  readonly builders: ServiceSet<ResolvedBuilder, BuilderService>;
  readonly changeSources: ServiceSet<ChangeSourceConfig, ChangeSource>;
  readonly schedulers: SchedulerSet;
  /** Logins on the worker port that are not workers (a PB change source's user). */
  readonly pbUsers = new PBUserRegistry();
  readonly distributor: Distributor | null;
  /**
   * Everything that runs in this master, one tree: started in order by `Master.start`,
   * stopped in reverse by `stop()`. See `#serviceTree` for the order and why.
   */
  readonly services = new MultiService('master');
  #config: ResolvedConfig;
  #stopped = false;
  #lastRetention = Number.NEGATIVE_INFINITY;
  #reconfigs: Promise<unknown> = Promise.resolve();
  /** Bisects failed builds of builders with `bisect: true`. */
  readonly bisector: Bisector;
  /** Delivers the config's reporters' reports from the durable outbox. */
  readonly reporters: ReportersService;
  /** With `cluster`: the events other masters publish reach this master's bus, and this one's reach theirs. */
  readonly relay: OutboxRelay | null;
  /** With `cluster`: the scheduler and change source leases this master holds. */
  readonly ownership: LeaseOwnership | null;
  /** The schedulers and change sources this master runs: all configured ones, or with `cluster` those it holds. */
  #placed: { schedulers: readonly AnySchedulerConfig[]; changeSources: readonly ChangeSourceConfig[] } = {
    schedulers: [],
    changeSources: [],
  };
  #placing: Promise<unknown> = Promise.resolve();
  /** Writes the schedulers and change sources (configured, running here) for the data API. */
  readonly #records: ServiceRecorder;
  #lastOutboxPrune = Number.NEGATIVE_INFINITY;
  /** Where the worker port listens, set by it once it does (latent workers pass it on to their instances). */
  workerPortAddress: { readonly host: string; readonly port: number } | null = null;

  private constructor(
    readonly options: MasterOptions,
    readonly configFile: string,
    readonly db: Db,
    readonly masterid: number,
    readonly name: string,
    readonly recovered: HousekeepingReport | null,
    /** Upload temporary files a crashed run left in the master directory, now deleted. */
    readonly removedUploadLeftovers: readonly string[],
    config: ResolvedConfig,
    bus: EventBus,
    data: DataLayer,
  ) {
    this.#config = config;
    this.bus = bus;
    this.data = data;
    const onAvailable = () => this.distributor?.trigger();
    const latentHost = {
      bus,
      workerPort: () => this.workerPortAddress,
      onError: (err: unknown, ctx: string) => this.#error(err, ctx),
    };
    this.workers = new ServiceSet('workers', (c) =>
      c.latent
        ? new LatentWorkerService(
            { ...c, latent: c.latent },
            data,
            () => this.masterid,
            onAvailable,
            latentHost,
          )
        : new WorkerService(c, data, () => this.masterid, onAvailable),
    );
    this.builders = new ServiceSet('builders', (c) => new BuilderService(c, data));
    this.bisector = new Bisector(this, (err, ctx) => this.#error(err, ctx));
    this.reporters = new ReportersService({
      master: this,
      data,
      bus,
      buildbotURL: () => this.#config.buildbotURL,
      workers: () => this.#config.workers,
      connectedWorkers: () =>
        new Set([...this.workers.values()].filter((w) => w.connected).map((w) => w.name)),
      workerId: (name) => this.workers.get(name)?.workerid,
      secrets: () => this.#config.secretsProviders,
      log: (level, message) => {
        if (level !== 'info') this.#error(new Error(message), 'reporters');
      },
    });
    const log = {
      info: () => {},
      warn: (m: string) => this.#error(new Error(m), 'changes'),
    };
    const changeContext: ChangeSourceContext = {
      addChange: (change) => this.addChange(change),
      state: data.changeSourceState,
      pbUsers: this.pbUsers,
      log,
      basedir: resolve(options.basedir),
      activity: (source, activity) => this.#records.activity(source, activity),
    };
    this.changeSources = new ServiceSet('changeSources', (c) => createChangeSource(c, changeContext));
    const schedulerContext: TrySchedulerContext = {
      data,
      bus,
      builderid: (name) => this.builders.get(name)?.builderid,
      builderProject: (name) => this.builders.get(name)?.config.project ?? '',
      cancelRequest: async (buildrequestid, reason) => {
        const stop = options.buildStarter?.stopBuild?.bind(options.buildStarter);
        await cancelRequest(this, stop, buildrequestid, reason);
      },
      log,
      basedir: resolve(options.basedir),
      pbUsers: this.pbUsers,
      clock: options.clock ?? realClock,
      statusChanged: () => void this.#records.record(),
    };
    this.schedulers = new SchedulerSet(
      (c) => createScheduler(c, schedulerContext),
      async (name) => {
        // Handed over to another master (its lease moved), not removed: the next owner resumes from its state.
        if (this.#config.schedulers.some((s) => s.name === name)) return;
        await data.schedulerState
          .delete(name)
          .catch((err) => this.#error(err, `forgetting scheduler ${name}`));
      },
    );
    const cluster = config.cluster;
    this.relay = cluster
      ? new OutboxRelay({
          data,
          bus,
          masterid,
          wakeup:
            options.outboxWakeup ??
            (db.listen
              ? new PostgresWakeup({
                  listen: db.listen,
                  channel: OUTBOX_CHANNEL,
                  masterid,
                  onError: (err, ctx) => this.#error(err, ctx),
                })
              : new PollingWakeup(cluster.pollMs)),
          onError: (err, ctx) => this.#error(err, ctx),
        })
      : null;
    this.ownership = cluster ? new LeaseOwnership(data, masterid, cluster.leaseSeconds) : null;
    this.#records = new ServiceRecorder({
      data,
      masterid,
      cluster: this.ownership !== null,
      configured: () => this.#config,
      running: () => ({ schedulers: this.schedulers.values(), changeSources: this.#placed.changeSources }),
      onError: (err, ctx) => this.#error(err, ctx),
    });
    this.distributor =
      options.buildStarter && this.hasRole('builds')
        ? new Distributor({
            data,
            masterid,
            starter: options.buildStarter,
            builders: () => this.builders.values(),
            worker: (name) => this.workers.get(name),
            noWorkerFree: (builder) =>
              startLatentWorkersFor(
                builder,
                (name) => this.workers.get(name),
                async (builderid, limit) =>
                  (await data.buildrequests.pendingForBuilder(builderid, limit)).length,
              ),
            onError: (err, ctx) => this.#error(err, ctx),
          })
        : null;
  }

  /**
   * The order things start in (and, reversed, stop in). The sets start empty, so the
   * configuration service can then fill them with everything already running. Parts from
   * outside come after it (they see the configured workers and builders); the bisector and
   * the distributor come last, so no build starts, and no bisection asks for one, before the
   * build runner is there, and both are the first to stop.
   */
  #serviceTree(): Service[] {
    let timer: NodeJS.Timeout | undefined;
    const tree: Service[] = [
      this.workers,
      this.builders,
      this.schedulers,
      this.changeSources,
      lifecycle('configuration', () => this.#applyInitialConfig()),
      lifecycle(
        'reporters',
        async () => {
          this.reporters.start();
          await this.reporters.apply(this.#config.reporters);
        },
        () => this.reporters.stop(),
      ),
      ...(this.options.services ?? []),
      this.bisector,
    ];
    const distributor = this.distributor;
    if (distributor)
      tree.push(
        lifecycle(
          'distributor',
          async () => {
            distributor.listen(this.bus);
            distributor.trigger();
          },
          () => distributor.stop(),
        ),
      );
    const heartbeat = this.#config.cluster?.heartbeatSeconds;
    tree.push(
      lifecycle(
        'housekeeping',
        async () => {
          timer = setInterval(
            () => {
              this.housekeeping().catch((err) => this.#error(err, 'housekeeping'));
            },
            this.options.housekeepingIntervalMs ?? (heartbeat ? heartbeat * 1000 : 10_000),
          );
          timer.unref();
        },
        async () => clearInterval(timer),
      ),
    );
    if (this.ownership) {
      // Another master stopping hands its leases over: take them now, not at the next heartbeat.
      let takeover: Subscription | undefined;
      tree.push(
        lifecycle(
          'lease takeover',
          async () => {
            takeover = this.bus.subscribe(
              'master.stopped',
              async (m) => {
                if (m.origin !== undefined)
                  await this.#applyChangeHandling().catch((err) => this.#error(err, 'taking over leases'));
              },
              { name: 'lease takeover' },
            );
          },
          async () => takeover?.unsubscribe(),
        ),
      );
    }
    return tree;
  }

  /** Starts `service` with this master now, and stops it with the master (first, as the last added). */
  addService(service: Service): Promise<void> {
    return this.services.add(service);
  }

  /** Stops a service added with `addService` (or given in the options) and forgets it. */
  removeService(service: Service): Promise<boolean> {
    return this.services.remove(service);
  }

  get config(): ResolvedConfig {
    return this.#config;
  }

  /** What this master does (config `cluster.roles`); a master without `cluster` does everything. */
  get roles(): readonly MasterRole[] {
    return this.#config.cluster?.roles ?? ALL_ROLES;
  }

  hasRole(role: MasterRole): boolean {
    return this.roles.includes(role);
  }

  /**
   * Loads the config (a broken one stops start-up with its ConfigError), opens and migrates
   * the database, recovers from a crashed previous run, and starts all services.
   */
  static async start(options: MasterOptions): Promise<Master> {
    const basedir = resolve(options.basedir);
    const configFile = resolve(basedir, options.configFile ?? DEFAULT_CONFIG_FILE);
    const { config } = await loadConfig(configFile, { typecheck: options.typecheckConfig ?? false });
    const db = await openAndMigrate({
      url: options.dbUrl ?? config.dbUrl,
      basedir,
      ...(options.onQuery && { onQuery: options.onQuery }),
    });
    try {
      const bus = new EventBus(options.bus ?? {});
      const data = new DataLayer(db, bus, options.now ? { now: options.now } : {});
      const name = options.name ?? `${hostname()}:${basedir}`;
      const { masterid, recovered } = await registerAndRecover(data, name);
      // Housekeeping, not a reason to refuse to start (an unreadable directory, say).
      const leftovers = await removeUploadLeftovers(basedir).catch((err: unknown) => {
        if (options.onError) options.onError(err, 'removing upload leftovers');
        else console.error('master: removing upload leftovers:', err);
        return [];
      });
      const master = new Master(
        options,
        configFile,
        db,
        masterid,
        name,
        recovered,
        leftovers,
        config,
        bus,
        data,
      );
      await master.#startServices();
      return master;
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  async #startServices(): Promise<void> {
    // Outside the service tree: it must run before the first service publishes and after
    // the last one stopped (and the stop itself was announced) to relay all of it.
    await this.relay?.start();
    for (const service of this.#serviceTree()) await this.services.add(service);
    await this.services.start(this);
  }

  async #applyInitialConfig(): Promise<void> {
    // Listed before the change sources run: what they add from now on reaches the schedulers live.
    const unscheduled = await this.data.changes.unscheduled();
    const initial = diffConfigs(null, this.#config);
    await this.#applyWorkersAndBuilders(initial);
    await this.#applyChangeHandling();
    // With `cluster`, each scheduler catches up when this master takes its lease (#place).
    if (!this.ownership) await this.#replayUnscheduledChanges(unscheduled);
  }

  /**
   * Stores a change and announces it (`change.new`), which is what schedulers act on.
   * Resolves once the change is committed: only then may a change source acknowledge it.
   */
  addChange(change: ChangeInput): Promise<number> {
    return this.data.changes.add(change);
  }

  async #applyWorkersAndBuilders(diff: ConfigDiff): Promise<{ workers: ApplyResult; builders: ApplyResult }> {
    // Workers first: builders refer to them.
    const workers = await this.workers.apply(diff.workers);
    // A worker configured here that is no longer latent loses its latent state in the API.
    await this.data.latentWorkers.forget(
      [...this.workers.values()].filter((w) => !w.config.latent).map((w) => w.workerid),
    );
    const builders = await this.builders.apply(diff.builders);
    // A master that runs no builds serves none of the builders.
    if (!this.hasRole('builds')) return { workers, builders };
    const builderids = [...this.builders.values()].map((b) => b.builderid);
    await this.data.builders.setMasterBuilders(this.masterid, builderids);
    for (const b of this.builders.values()) {
      const ids = b.config.workerNames
        .map((n) => this.workers.get(n)?.workerid)
        .filter((id): id is number => !!id);
      await this.data.workers.setConfigured(this.masterid, b.builderid, ids);
    }
    return { workers, builders };
  }

  /**
   * After the builders: a new scheduler's first run finds its builders configured. Applies
   * what changed between what runs and what should run: the config's schedulers and change
   * sources, or with `cluster` those whose leases this master holds (renewed first). One
   * at a time: reconfigs and heartbeats must not apply against the same old state.
   */
  #applyChangeHandling(): Promise<{ changeSources: ApplyResult; schedulers: ApplyResult }> {
    const run = this.#placing.then(() => this.#place());
    this.#placing = run.catch(() => {});
    return run;
  }

  async #place(): Promise<{ changeSources: ApplyResult; schedulers: ApplyResult }> {
    // Stopping: what runs is being stopped, and the leases are released by stop().
    if (this.#stopped) return { changeSources: NOTHING_APPLIED, schedulers: NOTHING_APPLIED };
    const { schedulers: configured, changeSources: sources } = this.#config;
    let next = { schedulers: configured, changeSources: sources };
    let gained: readonly string[] = [];
    if (this.ownership) {
      const candidates = this.hasRole('schedulers') ? leaseCandidates(configured, sources) : [];
      try {
        gained = (await this.ownership.renew(candidates)).gained;
      } catch (err) {
        this.#error(err, 'renewing leases');
      }
      next = placed(configured, sources, this.ownership.held);
    }
    // Schedulers before change sources: a change accepted by a new source finds them listening.
    const schedulers = await this.schedulers.apply(diffEntries(this.#placed.schedulers, next.schedulers));
    this.#placed = { ...this.#placed, schedulers: next.schedulers };
    const changeSources = await this.changeSources.apply(
      diffEntries(this.#placed.changeSources, next.changeSources),
    );
    this.#placed = next;
    // A scheduler taken over (from a master that died, say) may have missed stored changes.
    const taken = schedulers.added.filter((name) => gained.includes(schedulerLease(name)));
    if (taken.length > 0) await this.#replayUnscheduledChanges(await this.data.changes.unscheduled(), taken);
    await this.#records.record();
    return { changeSources, schedulers };
  }

  /**
   * Re-reads the config and applies what changed. If the new config does not load or
   * validate, nothing changes and the result carries the error (with file and line).
   */
  reconfig(): Promise<ReconfigResult> {
    // One at a time: two SIGHUPs in a row must not apply diffs against the same old config.
    const run = this.#reconfigs.then(() => this.#reconfig());
    this.#reconfigs = run.catch(() => {});
    return run;
  }

  async #reconfig(): Promise<ReconfigResult> {
    let next: ResolvedConfig;
    try {
      next = (await loadConfig(this.configFile, { typecheck: this.options.typecheckConfig ?? false })).config;
    } catch (err) {
      return { ok: false, error: err as Error };
    }
    const diff = diffConfigs(this.#config, next);
    const needsRestart = diff.settings.filter((s) => RESTART_SETTINGS.has(s));
    const old = this.#config;
    this.#config = next;
    try {
      const applied = await this.#applyWorkersAndBuilders(diff);
      const removed = diff.builders.removed.map((b) => b.name);
      if (removed.length > 0) await this.options.buildStarter?.buildersRemoved?.(removed);
      // The worker port sends the new builder lists on this event.
      this.bus.publish('config.reconfigured', {
        added: diff.workers.added.length + diff.builders.added.length,
        changed: diff.workers.changed.length + diff.builders.changed.length,
        removed: diff.workers.removed.length + diff.builders.removed.length,
      });
      this.distributor?.trigger();
      await this.reporters.apply(next.reporters);
      try {
        return { ok: true, diff, ...applied, ...(await this.#applyChangeHandling()), needsRestart };
      } catch (err) {
        // The schedulers are back as they were and the change sources were not touched:
        // remember the config they run, so that the next reconfig diffs against it.
        if (err instanceof SchedulerReconfigError)
          this.#config = { ...next, schedulers: old.schedulers, changeSources: old.changeSources };
        throw err;
      }
    } catch (err) {
      return { ok: false, error: err as Error };
    }
  }

  /**
   * Offers the schedulers each change stored shortly before the previous run ended (a crash
   * may have come between storing it and a scheduler acting on it), unless a buildset
   * already builds it.
   */
  async #replayUnscheduledChanges(changeids: readonly number[], only?: readonly string[]): Promise<void> {
    const schedulers = [...this.schedulers.values()].filter((s) => !only || only.includes(s.name));
    for (const changeid of changeids) {
      const change = await this.data.changes.get(changeid);
      if (change && !(await this.data.changes.hasBuildset(changeid)))
        // Only change schedulers take changes (try schedulers take patches).
        for (const scheduler of schedulers) await scheduler.gotChange?.(change);
      // Other masters' schedulers may still need the row; housekeeping forgets it after a minute.
      if (!only) await this.data.changes.markScheduled(changeid);
    }
  }

  /** Heartbeat, take over from dead masters, apply log retention, look for new work. */
  async housekeeping(): Promise<void> {
    if (!(await this.data.masters.heartbeat(this.masterid)))
      this.#error(
        new Error(
          `master ${this.name} was declared dead by another master (no heartbeat for ${this.#config.masterExpirySeconds} s): ` +
            'its running builds were marked RETRY and its build requests released',
        ),
        'heartbeat',
      );
    const reports = await expireMasters(this.data, this.masterid, this.#config.masterExpirySeconds);
    const days = this.#config.logs.retentionDays;
    const now = this.options.now?.() ?? epochSeconds();
    await this.data.changes.forgetUnscheduledBefore(now - UNSCHEDULED_GRACE_SECONDS);
    // Retention works in days; once an hour is plenty and keeps the deletes off the hot path.
    if (days !== null && now - this.#lastRetention >= 3600) {
      this.#lastRetention = now;
      await this.data.logs.deleteContentOlderThan(now - days * 86_400);
    }
    // Other masters' requests and released claims reach us only through the database.
    // Released claims (from `reports`) and requests added by other masters reach us only
    // through the database, so look for work on every round.
    if (reports.length > 0 || this.distributor) this.distributor?.trigger();
    if (this.ownership && !this.#stopped) await this.#applyChangeHandling();
    const retention = this.#config.cluster?.outboxRetentionSeconds;
    if (retention !== undefined && now - this.#lastOutboxPrune >= 60) {
      this.#lastOutboxPrune = now;
      await this.data.outbox.pruneBefore(now - retention);
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const w of this.workers.values()) w.stopReason = 'master shutting down';
    await this.services.stop().catch((err) => this.#error(err, 'stopping'));
    // The schedulers and change sources stopped first, released then: two masters never run
    // one, and the others take them over at once.
    await this.#placing;
    await this.#records.stop().catch((err) => this.#error(err, 'releasing schedulers and change sources'));
    await this.ownership?.releaseAll().catch((err) => this.#error(err, 'releasing leases'));
    await this.bus.idle();
    await markStopped(this.data, this.masterid, this.name);
    // After master.stopped is queued: the other masters learn of the stop from it.
    await this.bus.idle();
    await this.relay?.stop();
    await this.db.close();
  }

  #error(err: unknown, context: string): void {
    if (this.options.onError) this.options.onError(err, context);
    else console.error(`master: ${context}:`, err);
  }
}

/** A service from a start and a stop function, for the master's own small parts. */
function lifecycle(
  name: string,
  start: () => Promise<void>,
  stop: () => Promise<void> = async () => {},
): Service {
  return { name, start, stop };
}
