// What crosses the control channel between `lathe` and a running master. Everything here
// is plain data (dicts, lists, strings, numbers, booleans, null) so that Jelly carries it
// unchanged and a Python PB client could speak the same protocol.

import type { ReporterStatus } from '../reporters/service.js';

/** The one account the control port knows; the password is `<basedir>/control.secret`. */
export const CONTROL_USERNAME = 'lathe-admin';

export interface WorkerStatus {
  readonly name: string;
  readonly connected: boolean;
  /** 'idle' | 'busy' | 'paused' | 'shutting down' | 'disconnected'; latent: 'not started' | 'starting' | 'stopping' | 'missing' */
  readonly state: string;
  readonly runningBuilds: number;
  readonly maxBuilds: number | null;
  /** What the worker reported when it connected (admin, host, versions, …). */
  readonly info: Record<string, unknown>;
  /** For a latent worker (started on demand): its state and start failures. */
  readonly latent?: {
    readonly state: string;
    readonly failures: number;
    readonly lastError: string | null;
    readonly missing: boolean;
  };
}

export interface RunningBuildStatus {
  readonly buildid: number;
  readonly builder: string;
  readonly number: number;
  readonly worker: string | null;
  readonly startedAt: number;
  readonly state: string;
  /** The step running now (started, not finished), or null between steps. */
  readonly currentStep: string | null;
  /**
   * Epoch seconds when the build should finish, learned from the builder's recent builds;
   * null without history (or when the master cannot see its running builds).
   */
  readonly eta: number | null;
  /** When the running step should finish, likewise. */
  readonly stepEta: number | null;
  /** Share of the expected work done, 0..1, or null. */
  readonly progress: number | null;
}

export interface PendingRequestStatus {
  readonly buildrequestid: number;
  readonly buildsetid: number;
  readonly builder: string;
  readonly priority: number;
  readonly submittedAt: number;
  readonly claimed: boolean;
}

export interface SchedulerStatus {
  readonly name: string;
  /** 'SingleBranchScheduler', 'AnyBranchScheduler', 'Periodic', 'Nightly', … */
  readonly kind: string;
  readonly builderNames: readonly string[];
  /** Epoch seconds of the next run (timed schedulers, a running tree-stable timer); null when none is due. */
  readonly nextRunAt: number | null;
  /** Epoch seconds of the last timed run; null before the first (or for change schedulers). */
  readonly lastRunAt: number | null;
}

/** A master sharing the database (several masters: config `cluster`). */
export interface ClusterMasterStatus {
  readonly masterid: number;
  readonly name: string;
  readonly active: boolean;
  /** Epoch seconds of its last heartbeat. */
  readonly lastHeartbeat: number;
  /** The leases it holds: `scheduler:<name>`, `changesource:<name>`. */
  readonly owns: readonly string[];
}

export interface MasterStatus {
  readonly name: string;
  readonly masterid: number;
  readonly basedir: string;
  readonly pid: number;
  readonly startedAt: number;
  /** False while the master is shutting down (it starts no new builds). */
  readonly accepting: boolean;
  /** Builders that can run builds: false until a build runner is attached. */
  readonly canRunBuilds: boolean;
  readonly workers: readonly WorkerStatus[];
  readonly builds: readonly RunningBuildStatus[];
  readonly pending: readonly PendingRequestStatus[];
  readonly schedulers: readonly SchedulerStatus[];
  /** Each configured reporter's backlog and last error; absent from masters without reporters. */
  readonly reporters?: readonly ReporterStatus[];
  /** This master's roles (`builds`, `schedulers`, `web`). */
  readonly roles?: readonly string[];
  /** Every master known to the database, with what it owns; absent from older masters. */
  readonly masters?: readonly ClusterMasterStatus[];
}

/** What `lathe worker <action>` asks of a connected worker, and the avatar method for each. */
export const WORKER_ACTIONS = {
  pause: 'pauseWorker',
  unpause: 'unpauseWorker',
  shutdown: 'shutdownWorker',
} as const;
export type WorkerAction = keyof typeof WORKER_ACTIONS;

export interface WorkerActionResult {
  readonly name: string;
  /** False when the worker already was in that state (paused, not paused, shutting down). */
  readonly changed: boolean;
  /** The worker's state afterwards, as in WorkerStatus. */
  readonly state: string;
  readonly runningBuilds: number;
}

export interface ForceRequest {
  readonly builder: string;
  readonly reason: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface ForceResult {
  readonly buildsetid: number;
  readonly buildrequestid: number;
  readonly builderid: number;
  /** False when no build runner is attached: the request will stay pending. */
  readonly canRunBuilds: boolean;
  /** How many of the builder's workers are connected now; 0 means the request waits for one. */
  readonly connectedWorkers: number;
}

/** The build `stopBuild` is stopping. */
export interface StopBuildResult {
  readonly buildid: number;
  readonly builder: string;
  readonly number: number;
}

/** What `cancelRequest` did: cancelled the pending request, or stopped the build running it. */
export interface CancelRequestResult {
  readonly buildrequestid: number;
  readonly builder: string;
  /** 'cancelled' (it was pending) or 'stopping build' (its build was running; it is stopped). */
  readonly outcome: 'cancelled' | 'stopping build';
  /** The build stopped, when outcome is 'stopping build'. */
  readonly number: number | null;
}

/** What a finished build left behind, for `lathe force` to show after a failure. */
export interface BuildReport {
  readonly buildid: number;
  readonly builder: string;
  readonly number: number;
  readonly results: number | null;
  readonly state: string;
  /** The build's page: buildbotURL followed by Buildbot's route (urls.ts). */
  readonly url: string;
  readonly steps: readonly StepReport[];
  /** For a failed build: the changes it is blamed on and the bisection's verdict; null otherwise. */
  readonly blame: BlameReport | null;
}

/** A failed build's blamelist, suspects first, and its bisection (control/blame-report.ts). */
export interface BlameReport {
  /** The number of the last passing build of the same builder and branch; null when none is known. */
  readonly sinceNumber: number | null;
  readonly changeCount: number;
  /** Up to BLAME_LINES changes, suspects first, then newest first. */
  readonly changes: readonly BlamedChange[];
  /** The bisection's state and verdict; null when none runs for this build. */
  readonly bisection: { readonly state: string; readonly summary: string } | null;
}

export interface BlamedChange {
  readonly changeid: number;
  readonly revision: string | null;
  readonly author: string;
  /** The first line of its message. */
  readonly title: string;
  /** Files it touched that the failing step's output names; empty when not a suspect. */
  readonly suspectFiles: readonly string[];
}

/** One step worth showing: one that did not succeed, or that stored warnings. */
export interface StepReport {
  readonly name: string;
  readonly results: number | null;
  readonly state: string;
  /** The last lines of the step's output (stdio log), without stream markers. */
  readonly logTail: readonly string[];
  /** Lines of the step's "failed tests" log (the names of failing tests). */
  readonly failedTests: readonly string[];
  /** Lines of the step's "warnings (N)" log. */
  readonly warnings: readonly string[];
}

/**
 * Progress of a forced build, pushed to the client's listener (`remote_event(ev)`).
 * `results` are Buildbot's result numbers.
 */
export type ForceEvent =
  | { readonly type: 'claimed'; readonly buildrequestid: number }
  | { readonly type: 'unclaimed'; readonly buildrequestid: number }
  | { readonly type: 'buildStarted'; readonly buildid: number; readonly number: number }
  | {
      readonly type: 'stepFinished';
      readonly buildid: number;
      readonly name: string;
      readonly results: number;
    }
  | {
      readonly type: 'buildFinished';
      readonly buildid: number;
      readonly number: number;
      readonly results: number;
    }
  | { readonly type: 'requestComplete'; readonly buildrequestid: number; readonly results: number }
  | { readonly type: 'buildsetComplete'; readonly buildsetid: number; readonly results: number };

/** The outcome of the most recent reconfig, as `lathe reconfig` reports it. */
export interface ReconfigOutcome {
  /** Counts reconfigs since the master started; 0 = none yet. */
  readonly generation: number;
  readonly ok: boolean;
  /** On failure: each problem as `file:line: message`. */
  readonly problems: readonly string[];
  /** On success: e.g. "1 added, 0 changed, 0 removed"; settings needing a restart. */
  readonly summary: string;
}
