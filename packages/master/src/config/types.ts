// Configuration types: what `master.config.ts` exports (through defineConfig), and the
// resolved form with defaults applied that the rest of the master uses.
import type { ChangeSourceConfig } from '../changes/create.js';
import type { PendingRequest } from '../data/buildrequests.js';
import type { LockAccess } from '../locks/definitions.js';
import type { SecretProvider } from '../properties/secrets.js';
import type { ReporterEntry } from '../reporters/config.js';
import type { ReporterBinding } from '../reporters/delivery.js';
import type { AnySchedulerConfig, AnySchedulerEntry } from '../schedulers/create.js';
import type { BuildFactory } from '../steps/contract.js';
import type { LatentWorker } from '../workers/latent/latent-worker.js';
import type { ClusterConfig, ResolvedCluster } from './cluster.js';
import type { ResolvedWww, WwwConfig } from './www.js';

export const DEFAULT_WORKER_PORT = 9989;
/** Buildbot's default keepalive interval for workers, in seconds. */
export const DEFAULT_KEEPALIVE = 3600;
/** Seconds a worker with notifyOnMissing may be gone before it is reported missing. */
export const DEFAULT_MISSING_TIMEOUT = 3600;
/** Where links to builds start when the config does not say, as in Buildbot's sample config. */
export const DEFAULT_BUILDBOT_URL = 'http://localhost:8010/';

export interface WorkerConfig {
  readonly name: string;
  readonly password: string;
  /** Concurrent builds on this worker; default unlimited. */
  readonly maxBuilds?: number;
  readonly properties?: Readonly<Record<string, unknown>>;
  /** Seconds between keepalive pings; default 3600. */
  readonly keepalive?: number;
  /**
   * Seconds the worker may be disconnected before a worker-missing report is made (to the
   * reporters with a `workerMissingGenerator()`); default 3600 when notifyOnMissing is set,
   * otherwise no report.
   */
  readonly missingTimeout?: number;
  /** Addresses the mail reporter sends this worker's worker-missing reports to (its admins). */
  readonly notifyOnMissing?: readonly string[];
}

/** The view of a worker that builder callbacks (canStartBuild, nextWorker) get. */
export interface WorkerCandidate {
  readonly name: string;
  readonly runningBuilds: number;
  readonly maxBuilds: number | null;
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface BuilderConfig {
  readonly name: string;
  readonly workerNames: readonly string[];
  readonly factory: BuildFactory;
  readonly properties?: Readonly<Record<string, unknown>>;
  readonly tags?: readonly string[];
  readonly description?: string;
  readonly project?: string;
  /** Higher-priority builders get idle workers first; default 0. */
  readonly priority?: number;
  /**
   * Bisect failures: a failed build with several changes in its blamelist gets builds of
   * intermediate revisions until the first bad change is known (bisect/). Default false.
   */
  readonly bisect?: boolean;
  /** Veto a worker for a request (e.g. a lock or a disk-space check). */
  readonly canStartBuild?: (
    builder: string,
    worker: WorkerCandidate,
    request: PendingRequest,
  ) => boolean | Promise<boolean>;
  /** Pick the worker for a request among the candidates; null to wait. */
  readonly nextWorker?: (
    builder: string,
    workers: readonly WorkerCandidate[],
    request: PendingRequest,
  ) => WorkerCandidate | null | Promise<WorkerCandidate | null>;
  /**
   * Whether pending requests for the same sources collapse into one build (true: Buildbot's
   * default rule), or a function deciding for a pair. Default: the master-wide setting.
   */
  readonly collapseRequests?: boolean | CollapseFn;
  /** The builder's directory on its workers; default the name with unsafe characters as '_'. */
  readonly workerBuilddir?: string;
  /** Locks each build holds from its first step to its last (`masterLock('db').access('exclusive')`). */
  readonly locks?: readonly LockAccess[];
}

export type CollapseFn = (older: PendingRequest, newer: PendingRequest) => boolean | Promise<boolean>;

export interface LogsConfig {
  /** Delete log content of steps finished more than this many days ago; default keep forever. */
  readonly retentionDays?: number;
  /** Buffered output per log before it is written as a chunk; default 64 KiB. */
  readonly flushBytes?: number;
  /** Longest time output waits in memory before it is written; default 1000 ms. */
  readonly flushIntervalMs?: number;
}

export interface MasterConfig {
  readonly title?: string;
  /**
   * Where links to builds and build requests (a trigger step's URLs) start, as Buildbot's
   * `buildbotURL`: they use Buildbot's web UI routes; Lathe's web UI is planned. An
   * absolute http(s) URL ending with '/'; default http://localhost:8010/.
   */
  readonly buildbotURL?: string;
  /** Workers that connect by themselves, and latent ones the master starts on demand (`commandLatentWorker(…)`, `dockerLatentWorker(…)`, a `LatentWorker` subclass). */
  readonly workers?: readonly (WorkerConfig | LatentWorker)[];
  readonly builders?: readonly BuilderConfig[];
  /** Port (or `tcp:<port>[:interface=<ip>]`) workers connect to; default 9989. */
  readonly workerPort?: number | string;
  /**
   * The database: `sqlite:<path>` (default `sqlite:state.sqlite`, relative to the master
   * directory) or `postgres://user:password@host:port/database` (src/db/README.md).
   */
  readonly db?: { readonly url?: string };
  readonly logs?: LogsConfig;
  /** Default for builders that do not say; default true, as in Buildbot. */
  readonly collapseRequests?: boolean;
  /** Seconds without heartbeat after which another master is considered dead; default 300. */
  readonly masterExpirySeconds?: number;
  /** Properties every build starts with (lowest precedence, source "Global"). */
  readonly properties?: Readonly<Record<string, unknown>>;
  /** Where `secret('name')` / `%(secret:name)s` look, first provider that knows the name wins. */
  readonly secretsProviders?: readonly SecretProvider[];
  /** What starts builds: `singleBranchScheduler(…)`, `anyBranchScheduler(…)`, `forceScheduler(…)`, `triggerableScheduler(…)`, `dependentScheduler(…)`, `periodicScheduler(…)`, `nightlyScheduler(…)`; try jobs: `tryJobdirScheduler(…)`, `tryUserpassScheduler(…)`. */
  readonly schedulers?: readonly AnySchedulerEntry[];
  /** Where changes come from: `pbChangeSource(…)`. */
  readonly changeSources?: readonly ChangeSourceConfig[];
  /** Serve the data API over HTTP (`{ port, host, baseURL }`); absent: no HTTP. */
  readonly www?: WwwConfig;
  /** Where reports go: `{ reporter: new MailReporter({…}), generators: [buildStatusGenerator({ mode: 'failing' })] }`. */
  readonly reporters?: readonly ReporterEntry[];
  /** Several masters share the database: roles and lease timing (config/cluster.ts); absent: the only master. */
  readonly cluster?: ClusterConfig;
}

/**
 * Buildbot settings for parts Lathe does not have yet, and what to do instead. A config
 * that sets one is refused, by validation and, through defineConfig, by the type check:
 * accepting it would let people believe it does something.
 */
export const PLANNED_SETTINGS = {} as const;
export type PlannedSetting = keyof typeof PLANNED_SETTINGS;

/**
 * `T` with each planned setting's type replaced by its reason, so that tsc's error for a
 * config that sets one says why (defineConfig's parameter; T is still inferred from it).
 */
export type RefusePlannedSettings<T> = {
  [K in keyof T]: K extends PlannedSetting ? (typeof PLANNED_SETTINGS)[K] : T[K];
};

export interface ResolvedWorker {
  readonly name: string;
  readonly password: string;
  readonly maxBuilds: number | null;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly keepalive: number;
  /** Absent or null: never reported missing. (Optional so hand-made workers need not say.) */
  readonly missingTimeout?: number | null;
  readonly notifyOnMissing?: readonly string[];
  /** Set for a latent worker: how the master starts and stops it. */
  readonly latent?: LatentWorker;
  /** 'latent' for a latent worker: turning a worker into a latent one (or back) replaces its service. */
  readonly kind?: 'latent';
}

export interface ResolvedBuilder extends BuilderConfig {
  readonly properties: Readonly<Record<string, unknown>>;
  readonly tags: readonly string[];
  readonly priority: number;
  readonly collapseRequests: boolean | CollapseFn;
}

export interface ResolvedConfig {
  readonly title: string;
  readonly buildbotURL: string;
  readonly workers: readonly ResolvedWorker[];
  readonly builders: readonly ResolvedBuilder[];
  readonly workerPort: { readonly port: number; readonly host: string | null };
  readonly dbUrl: string;
  readonly logs: Required<Omit<LogsConfig, 'retentionDays'>> & { readonly retentionDays: number | null };
  readonly masterExpirySeconds: number;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly secretsProviders: readonly SecretProvider[];
  readonly schedulers: readonly AnySchedulerConfig[];
  readonly changeSources: readonly ChangeSourceConfig[];
  readonly www: ResolvedWww | null;
  readonly reporters: readonly ReporterBinding[];
  readonly cluster: ResolvedCluster | null;
}

/** Where a config object was defined, recorded by defineWorker/defineBuilder. */
export const DEFINED_AT: unique symbol = Symbol('lathe.definedAt');

export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column?: number;
}
