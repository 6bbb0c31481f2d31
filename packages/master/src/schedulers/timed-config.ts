// The config entries of the timed schedulers: periodicScheduler() (every N seconds) and
// nightlyScheduler() (a cron pattern, in a time zone), and the resolved form validation
// produces.
import type { ChangeRow } from '../data/changes.js';
import type { ChangeFilter } from './change-filter.js';

export interface TimedSchedulerOptions {
  readonly name: string;
  readonly builderNames: readonly string[];
  /**
   * Build only if a change matching changeFilter (and important, see fileIsImportant)
   * arrived since the last run; the buildset then builds those changes. Default false:
   * build every time, one empty source stamp (the default branch).
   */
  readonly onlyIfChanged?: boolean;
  readonly changeFilter?: ChangeFilter;
  readonly fileIsImportant?: (change: ChangeRow) => boolean;
  /** Leave unimportant changes out of the buildset altogether. */
  readonly onlyImportant?: boolean;
  readonly properties?: Readonly<Record<string, unknown>>;
  readonly reason?: string;
  readonly priority?: number;
}

export interface PeriodicSchedulerOptions extends TimedSchedulerOptions {
  /** Seconds between runs; the first run is at once. */
  readonly periodicBuildTimer: number;
}

export interface NightlySchedulerOptions extends TimedSchedulerOptions {
  /** A cron pattern: `minute hour day-of-month month day-of-week` (croner's syntax, seconds optional first). */
  readonly cron: string;
  /** An IANA time zone the pattern is read in, e.g. "Europe/Berlin"; default the master's. */
  readonly timezone?: string;
}

export type TimedSchedulerKind = 'Periodic' | 'Nightly';

export interface PeriodicSchedulerEntry extends PeriodicSchedulerOptions {
  readonly kind: 'Periodic';
}

export interface NightlySchedulerEntry extends NightlySchedulerOptions {
  readonly kind: 'Nightly';
}

interface ResolvedTimedCommon {
  readonly name: string;
  readonly builderNames: readonly string[];
  readonly onlyIfChanged: boolean;
  readonly filter: ChangeFilter;
  readonly fileIsImportant: ((change: ChangeRow) => boolean) | null;
  readonly onlyImportant: boolean;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly reason: string;
  readonly priority: number;
}

export interface ResolvedPeriodicConfig extends ResolvedTimedCommon {
  readonly kind: 'Periodic';
  readonly periodicBuildTimer: number;
}

export interface ResolvedNightlyConfig extends ResolvedTimedCommon {
  readonly kind: 'Nightly';
  readonly cron: string;
  readonly timezone: string | null;
}

export type ResolvedTimedSchedulerConfig = ResolvedPeriodicConfig | ResolvedNightlyConfig;

export function isTimedKind(kind: unknown): kind is TimedSchedulerKind {
  return kind === 'Periodic' || kind === 'Nightly';
}
