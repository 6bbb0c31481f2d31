// Which schedulers and change sources run where when several masters share the database.
// Those that act by themselves (on changes, on timers, by polling) must run on exactly one
// master, so they run under a lease; those that only act when called (a forced build, a
// trigger step, a try job or a change sent over PB) run on every master, so that whichever
// master is asked can answer.
import type { ChangeSourceConfig } from '../changes/create.js';
import type { AnySchedulerConfig } from '../schedulers/create.js';

const CALLED_SCHEDULERS = new Set<AnySchedulerConfig['kind']>([
  'ForceScheduler',
  'Triggerable',
  'Try_Userpass',
]);
const CALLED_CHANGE_SOURCES = new Set<ChangeSourceConfig['type']>(['pb']);

export const schedulerLease = (name: string): string => `scheduler:${name}`;
export const changeSourceLease = (name: string): string => `changesource:${name}`;

export const schedulerNeedsLease = (s: AnySchedulerConfig): boolean => !CALLED_SCHEDULERS.has(s.kind);
export const changeSourceNeedsLease = (c: ChangeSourceConfig): boolean => !CALLED_CHANGE_SOURCES.has(c.type);

/** The lease names this master competes for (none without the `schedulers` role). */
export function leaseCandidates(
  schedulers: readonly AnySchedulerConfig[],
  changeSources: readonly ChangeSourceConfig[],
): string[] {
  return [
    ...schedulers.filter(schedulerNeedsLease).map((s) => schedulerLease(s.name)),
    ...changeSources.filter(changeSourceNeedsLease).map((c) => changeSourceLease(c.name)),
  ];
}

/** The entries this master runs, given the leases it holds. */
export function placed(
  schedulers: readonly AnySchedulerConfig[],
  changeSources: readonly ChangeSourceConfig[],
  held: ReadonlySet<string>,
): { schedulers: AnySchedulerConfig[]; changeSources: ChangeSourceConfig[] } {
  return {
    schedulers: schedulers.filter((s) => !schedulerNeedsLease(s) || held.has(schedulerLease(s.name))),
    changeSources: changeSources.filter(
      (c) => !changeSourceNeedsLease(c) || held.has(changeSourceLease(c.name)),
    ),
  };
}
