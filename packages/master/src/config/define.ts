// Helpers for master.config.ts. They only return what they are given (typed), plus — for
// workers, builders, change sources and schedulers — a hidden note of the line that defined them, so validation
// errors can point there even when the config generates its entries in a loop.
import { fileURLToPath } from 'node:url';
import { type GitPollerConfig, type GitPollerOptions, gitPollerConfig } from '../changes/git-poller.js';
import {
  type PBChangeSourceConfig,
  type PBChangeSourceOptions,
  pbChangeSourceConfig,
} from '../changes/pb-change-source.js';
import type {
  ChangeSchedulerEntry,
  ChangeSchedulerOptions,
  SingleBranchSchedulerOptions,
} from '../schedulers/config.js';
import type { DependentSchedulerEntry, DependentSchedulerOptions } from '../schedulers/dependent.js';
import type { ForceSchedulerEntry, ForceSchedulerOptions } from '../schedulers/force.js';
import type {
  NightlySchedulerEntry,
  NightlySchedulerOptions,
  PeriodicSchedulerEntry,
  PeriodicSchedulerOptions,
} from '../schedulers/timed-config.js';
import type { TriggerableSchedulerEntry, TriggerableSchedulerOptions } from '../schedulers/triggerable.js';
import type { TryJobdirOptions, TrySchedulerEntry, TryUserpassOptions } from '../schedulers/try/config.js';
import {
  type BuilderConfig,
  DEFINED_AT,
  type MasterConfig,
  type RefusePlannedSettings,
  type SourceLocation,
  type WorkerConfig,
} from './types.js';

export function defineConfig<T extends MasterConfig>(config: RefusePlannedSettings<T>): T {
  return config as T; // the same object: RefusePlannedSettings<T> is T when it type-checks
}

export function defineWorker<T extends WorkerConfig>(worker: T): T {
  return withLocation(worker, callerLocation());
}

export function defineBuilder<T extends BuilderConfig>(builder: T): T {
  return withLocation(builder, callerLocation());
}

/** Buildbot's PBChangeSource on the worker port: `buildbot sendchange` / `lathe sendchange` log in here. */
export function pbChangeSource(options: PBChangeSourceOptions = {}): PBChangeSourceConfig {
  return withLocation(pbChangeSourceConfig(options), callerLocation());
}

/** Polls a local git repository's branches for new commits. */
export function gitPoller(options: GitPollerOptions): GitPollerConfig {
  return withLocation(gitPollerConfig(options), callerLocation());
}

/** Builds changes on one branch (`branch`, null for the default one) or matching `changeFilter`. */
export function singleBranchScheduler(options: SingleBranchSchedulerOptions): ChangeSchedulerEntry {
  return withLocation({ ...options, kind: 'SingleBranchScheduler' }, callerLocation());
}

/** Builds changes on any branch (narrowed by `changeFilter`), each branch on its own timer. */
export function anyBranchScheduler(options: ChangeSchedulerOptions): ChangeSchedulerEntry {
  return withLocation({ ...options, kind: 'AnyBranchScheduler' }, callerLocation());
}

/** Buildbot's Try_Jobdir: builds the try jobs `buildbot tryserver` drops into `jobdir`. */
export function tryJobdirScheduler(options: TryJobdirOptions): TrySchedulerEntry {
  return withLocation({ ...options, kind: 'Try_Jobdir' as const }, callerLocation());
}

/** Buildbot's Try_Userpass: `buildbot try --connect=pb` and `lathe try` log in on the worker port. */
export function tryUserpassScheduler(options: TryUserpassOptions): TrySchedulerEntry {
  return withLocation({ ...options, kind: 'Try_Userpass' as const }, callerLocation());
}

/** Lets people force its builders (`lathe force`), with typed parameters. */
export function forceScheduler(options: ForceSchedulerOptions): ForceSchedulerEntry {
  return withLocation({ ...options, kind: 'ForceScheduler' }, callerLocation());
}

/** Builds its builders when a Trigger step names it (`schedulerNames`). */
export function triggerableScheduler(options: TriggerableSchedulerOptions): TriggerableSchedulerEntry {
  return withLocation({ ...options, kind: 'Triggerable' }, callerLocation());
}

/** Builds its builders after a buildset of `upstream` succeeds, with the same source stamps. */
export function dependentScheduler(options: DependentSchedulerOptions): DependentSchedulerEntry {
  return withLocation({ ...options, kind: 'Dependent' }, callerLocation());
}

/** Builds every `periodicBuildTimer` seconds (the first time at once). */
export function periodicScheduler(options: PeriodicSchedulerOptions): PeriodicSchedulerEntry {
  return withLocation({ ...options, kind: 'Periodic' }, callerLocation());
}

/** Builds at the times a cron pattern names, read in `timezone`. */
export function nightlyScheduler(options: NightlySchedulerOptions): NightlySchedulerEntry {
  return withLocation({ ...options, kind: 'Nightly' }, callerLocation());
}

function withLocation<T extends object>(value: T, where: SourceLocation | undefined): T {
  if (where) Object.defineProperty(value, DEFINED_AT, { value: where, enumerable: false });
  return value;
}

export function definedAt(value: unknown): SourceLocation | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return (value as { [DEFINED_AT]?: SourceLocation })[DEFINED_AT];
}

/** The location of the code that called our caller. */
function callerLocation(): SourceLocation | undefined {
  const stack = new Error().stack?.split('\n') ?? [];
  // [0] "Error", [1] callerLocation, [2] defineX, [3] the config file.
  const frame = stack[3];
  if (!frame) return undefined;
  return parseFrame(frame);
}

export function parseFrame(frame: string): SourceLocation | undefined {
  const m = /\(?((?:file:\/\/)?[^()\s]+?):(\d+):(\d+)\)?\s*$/.exec(frame.trim());
  if (!m) return undefined;
  return { file: toPath(m[1]!), line: Number(m[2]), column: Number(m[3]) };
}

export function toPath(fileOrUrl: string): string {
  const noQuery = fileOrUrl.replace(/\?.*$/, '');
  return noQuery.startsWith('file://') ? fileURLToPath(noQuery) : noQuery;
}
