// What a scheduler is: a service that decides, from changes (later also from clocks and
// other builds), when to add a buildset for which builders.
import type { EventBus } from '../bus/bus.js';
import type { ChangeRow } from '../data/changes.js';
import type { DataLayer } from '../data/index.js';
import type { Service } from '../service.js';
import type { Clock } from './clock.js';

export interface Scheduler extends Service {
  readonly name: string;
  /** What `lathe status` shows of it. */
  status?(): SchedulerStatusInfo;
  /** Looks at one stored change (also one replayed after a crash); absent when changes do not matter to it. */
  gotChange?(change: ChangeRow): Promise<void>;
}

export interface SchedulerStatusInfo {
  /** The config kind: 'SingleBranchScheduler', 'Nightly', … */
  readonly kind: string;
  /** Epoch seconds of the next run (a timed run, a tree-stable timer); null when none is due. */
  readonly nextRunAt: number | null;
  /** Epoch seconds of the last timed run, when there is such a thing. */
  readonly lastRunAt: number | null;
}

/** What a scheduler may use of the master. */
export interface SchedulerContext {
  readonly data: DataLayer;
  readonly bus: EventBus;
  /** The id of a configured builder, if it is configured. */
  builderid(name: string): number | undefined;
  /** The project a configured builder declares ('' when none). */
  builderProject(name: string): string;
  /**
   * Cancels a pending request, or stops the build running it on this master, with the
   * reason recorded (the old-build canceller).
   */
  cancelRequest(buildrequestid: number, reason: string): Promise<void>;
  readonly log: SchedulerLogger;
  /** Timers and the time; tests pass a clock they move by hand. */
  readonly clock: Clock;
  /** What status() answers changed (a next run armed or cleared, a run done). */
  readonly statusChanged?: () => void;
}

export interface SchedulerLogger {
  info(message: string): void;
  warn(message: string): void;
}
