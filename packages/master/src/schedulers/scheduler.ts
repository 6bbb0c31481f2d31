// What a scheduler is: a service that decides, from changes (later also from clocks and
// other builds), when to add a buildset for which builders.
import type { EventBus } from '../bus/bus.js';
import type { DataLayer } from '../data/index.js';
import type { Service } from '../service.js';

export interface Scheduler extends Service {
  readonly name: string;
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
}

export interface SchedulerLogger {
  info(message: string): void;
  warn(message: string): void;
}
