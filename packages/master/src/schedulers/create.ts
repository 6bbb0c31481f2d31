// Every kind of scheduler the config can name, and the service for each.
import type { ReconfigurableService } from '../service.js';
import { ChangeScheduler } from './change-scheduler.js';
import type { ResolvedSchedulerConfig, SchedulerEntry } from './config.js';
import { DependentScheduler } from './dependent.js';
import { ForceScheduler } from './force.js';
import { NightlyScheduler } from './nightly.js';
import { PeriodicScheduler } from './periodic.js';
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

/**
 * A running scheduler, as the master's scheduler set (scheduler-set.ts) holds it; one
 * without `reconfigure` is replaced when its config changes.
 */
export type SchedulerService = Scheduler &
  Partial<ReconfigurableService<never>> & { readonly config: AnySchedulerConfig };

export function createScheduler(config: AnySchedulerConfig, ctx: TrySchedulerContext): SchedulerService {
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
    case 'Periodic':
      return new PeriodicScheduler(config, ctx);
    case 'Nightly':
      return new NightlyScheduler(config, ctx);
    case 'Try_Jobdir':
      return new TryJobdirScheduler(config, ctx);
    case 'Try_Userpass':
      return new TryUserpassScheduler(config, ctx);
  }
}
