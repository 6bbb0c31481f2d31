// What a change source is: a service that learns of commits (pushed to it or polled) and
// hands each one to the master, which stores it before the source acknowledges it.
import type { ChangeSpec } from '../data/changes.js';
import type { ChangeSourceActivity } from '../data/service-records.js';
import type { Service } from '../service.js';
import type { PBUserRegistry } from './pb-users.js';

/** A commit as a change source reports it; see ChangeSpec for the fields. */
export type ChangeInput = ChangeSpec;

/** What a change source may use of the master. */
export interface ChangeSourceContext {
  /** Stores the change (resolves with its id once committed) and announces it on the bus. */
  addChange(change: ChangeInput): Promise<number>;
  /** What the source must remember across restarts, by its name and a key (JSON values). */
  readonly state: ChangeSourceState;
  /** Extra logins on the worker port (a PB change source's user). */
  readonly pbUsers: PBUserRegistry;
  readonly log: ChangeSourceLogger;
  /** The master directory, where change sources keep working files (a poller's mirror). */
  readonly basedir: string;
  /** Reports what a source did (a poll, a change stored, an error), for the data API. */
  readonly activity?: (source: string, activity: ChangeSourceActivity) => void;
}

export interface ChangeSourceState {
  get(source: string, key: string): Promise<unknown>;
  set(source: string, key: string, value: unknown): Promise<void>;
}

export interface ChangeSourceLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface ChangeSource extends Service {
  readonly name: string;
}
