// The distributor's view of workers and builders, and the hook through which it starts
// builds. The PB worker connection and the build runner plug in here: a connected worker
// is a WorkerSlot that is available, and the build runner is the BuildStarter.

import type { ResolvedBuilder, WorkerCandidate } from '../config/types.js';
import type { PendingRequest } from '../data/buildrequests.js';

export interface WorkerSlot extends WorkerCandidate {
  readonly workerid: number;
  /** Connected, not paused, not shutting down and below maxBuilds. */
  isAvailable(): boolean;
  /** Orders idle workers fairly: the one given work longest ago goes first. */
  readonly lastAssigned: number;
  /** Takes one build slot; the distributor calls this before starting a build. */
  acquire(): void;
  /** Returns a slot; the build runner calls this when the build ends (or it failed to start). */
  release(): void;
}

export interface DistributorBuilder {
  readonly name: string;
  readonly builderid: number;
  readonly config: ResolvedBuilder;
}

/** One build to start: `request` runs on `worker`; `collapsed` were merged into it. */
export interface Assignment {
  readonly builder: DistributorBuilder;
  readonly worker: WorkerSlot;
  readonly request: PendingRequest;
  /** Older compatible requests this build stands for; completed as SKIPPED once it starts. */
  readonly collapsed: readonly PendingRequest[];
}

export interface BuildStarter {
  /**
   * Starts the build. Resolve once it is running (recorded in the data layer); reject if it
   * could not start — the distributor then releases the worker slot and unclaims the
   * requests. After a successful start the runner owns the slot and must release it.
   */
  startBuild(assignment: Assignment): Promise<void>;
  /**
   * Optional veto on a pairing the distributor considers, e.g. because the worker already
   * runs a build of this builder (Buildbot runs one build per builder per worker at a time:
   * they share the builder's directory there).
   */
  canStart?(builder: DistributorBuilder, worker: WorkerSlot): boolean;
  /**
   * A reconfig removed these builders. Called after they left the builder set (nothing new
   * starts on them) and before workers are sent their new builder lists, so builds still
   * running on them can be ended while the workers still know the builders.
   */
  buildersRemoved?(names: readonly string[]): Promise<void>;
  /** Stops a build it runs, CANCELLED with the reason; false when it does not run it. */
  stopBuild?(buildid: number, reason: string): boolean;
}
