// The scheduler entries of master.config.ts: what singleBranchScheduler() and
// anyBranchScheduler() take, and the resolved form validation produces.
import type { ChangeRow } from '../data/changes.js';
import type { ChangeFilter } from './change-filter.js';
import type {
  NightlySchedulerEntry,
  PeriodicSchedulerEntry,
  ResolvedTimedSchedulerConfig,
} from './timed-config.js';

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
}

export interface SingleBranchSchedulerOptions extends ChangeSchedulerOptions {
  /** The branch to build; null for the default branch. Give this or changeFilter. */
  readonly branch?: string | null;
}

export type SchedulerKind = 'SingleBranchScheduler' | 'AnyBranchScheduler';

/** What the config helpers return: the options as given, checked by validation. */
export interface SchedulerEntry extends SingleBranchSchedulerOptions {
  readonly kind: SchedulerKind;
}

export interface ResolvedSchedulerConfig {
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
}

/** Any scheduler entry of master.config.ts, and any resolved scheduler config. */
export type AnySchedulerEntry = SchedulerEntry | PeriodicSchedulerEntry | NightlySchedulerEntry;
export type AnySchedulerConfig = ResolvedSchedulerConfig | ResolvedTimedSchedulerConfig;
