// The scheduler entries of master.config.ts: what singleBranchScheduler() and
// anyBranchScheduler() take, and the resolved form validation produces. The force,
// triggerable and dependent schedulers' own options live beside them (force.ts,
// triggerable.ts, dependent.ts), and the timed ones' in timed-config.ts; the unions below
// gather every kind (schedulers/create.ts adds the try schedulers).
import type { ChangeRow } from '../data/changes.js';
import type { ChangeFilter } from './change-filter.js';
import type { DependentSchedulerEntry, ResolvedDependentSchedulerConfig } from './dependent.js';
import type { ForceSchedulerEntry, ResolvedForceSchedulerConfig } from './force.js';
import type {
  NightlySchedulerEntry,
  PeriodicSchedulerEntry,
  ResolvedTimedSchedulerConfig,
} from './timed-config.js';
import type { ResolvedTriggerableSchedulerConfig, TriggerableSchedulerEntry } from './triggerable.js';

export interface ChangeSchedulerOptions {
  readonly name: string;
  readonly builderNames: readonly string[];
  readonly changeFilter?: ChangeFilter;
  /**
   * Seconds without a new matching change before building (all changes so far in one
   * buildset); null or absent builds each important change at once.
   */
  readonly treeStableTimer?: number | null;
  /** Whether a change needs a build; default every change does. */
  readonly fileIsImportant?: (change: ChangeRow) => boolean;
  /** With a fileIsImportant: leave unimportant changes out of the buildset altogether. */
  readonly onlyImportant?: boolean;
  /** Properties of the buildsets it adds (source "Scheduler"). */
  readonly properties?: Readonly<Record<string, unknown>>;
  readonly reason?: string;
  readonly priority?: number;
  /**
   * Opt-in old-build canceller: a new buildset cancels this scheduler's builders' pending
   * requests and running builds of older revisions of the same repository, codebase and branch.
   */
  readonly cancelOldBuilds?: boolean;
}

export interface SingleBranchSchedulerOptions extends ChangeSchedulerOptions {
  /** The branch to build; null for the default branch. Give this or changeFilter. */
  readonly branch?: string | null;
}

export type SchedulerKind = 'SingleBranchScheduler' | 'AnyBranchScheduler';

/** What the config helpers return: the options as given, checked by validation. */
export interface ChangeSchedulerEntry extends SingleBranchSchedulerOptions {
  readonly kind: SchedulerKind;
}

export type SchedulerEntry =
  | ChangeSchedulerEntry
  | ForceSchedulerEntry
  | TriggerableSchedulerEntry
  | DependentSchedulerEntry
  | PeriodicSchedulerEntry
  | NightlySchedulerEntry;

export type ResolvedSchedulerConfig =
  | ResolvedChangeSchedulerConfig
  | ResolvedForceSchedulerConfig
  | ResolvedTriggerableSchedulerConfig
  | ResolvedDependentSchedulerConfig
  | ResolvedTimedSchedulerConfig;

export interface ResolvedChangeSchedulerConfig {
  readonly kind: SchedulerKind;
  readonly name: string;
  readonly builderNames: readonly string[];
  readonly filter: ChangeFilter;
  readonly treeStableTimer: number | null;
  readonly fileIsImportant: ((change: ChangeRow) => boolean) | null;
  readonly onlyImportant: boolean;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly reason: string;
  readonly priority: number;
  readonly cancelOldBuilds: boolean;
}
