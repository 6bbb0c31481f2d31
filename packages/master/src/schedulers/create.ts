// Every kind of scheduler the config can name, and the service for each.
import { ChangeScheduler } from './change-scheduler.js';
import type { ResolvedSchedulerConfig, SchedulerEntry } from './config.js';
import { DependentScheduler } from './dependent.js';
import { ForceScheduler } from './force.js';
import type { Scheduler } from './scheduler.js';
import { TriggerableScheduler } from './triggerable.js';
import type { ResolvedTrySchedulerConfig, TrySchedulerEntry } from './try/config.js';
import type { TrySchedulerContext } from './try/job.js';
import { TryJobdirScheduler } from './try/jobdir.js';
import { TryUserpassScheduler } from './try/userpass.js';

/** What `schedulers` in master.config.ts holds. */
export type AnySchedulerEntry = SchedulerEntry | TrySchedulerEntry;
/** A scheduler entry after validation. */
export type AnySchedulerConfig = ResolvedSchedulerConfig | ResolvedTrySchedulerConfig;
export type AnyScheduler = Scheduler | TryJobdirScheduler | TryUserpassScheduler;

export function createScheduler(config: AnySchedulerConfig, ctx: TrySchedulerContext): AnyScheduler {
  switch (config.kind) {
    case 'SingleBranchScheduler':
    case 'AnyBranchScheduler':
      return new ChangeScheduler(config, ctx);
    case 'ForceScheduler':
      return new ForceScheduler(config, ctx);
    case 'Triggerable':
      return new TriggerableScheduler(config, ctx);
    case 'Dependent':
      return new DependentScheduler(config, ctx);
    case 'Try_Jobdir':
      return new TryJobdirScheduler(config, ctx);
    case 'Try_Userpass':
      return new TryUserpassScheduler(config, ctx);
  }
}
