// Builds the scheduler service for a resolved scheduler config, by its kind.
import type { ReconfigurableService } from '../service.js';
import { ChangeScheduler } from './change-scheduler.js';
import type { AnySchedulerConfig } from './config.js';
import { NightlyScheduler } from './nightly.js';
import { PeriodicScheduler } from './periodic.js';
import type { Scheduler, SchedulerContext } from './scheduler.js';

export type SchedulerService = Scheduler &
  ReconfigurableService<never> & { readonly config: AnySchedulerConfig };

export function createScheduler(config: AnySchedulerConfig, ctx: SchedulerContext): SchedulerService {
  switch (config.kind) {
    case 'Periodic':
      return new PeriodicScheduler(config, ctx);
    case 'Nightly':
      return new NightlyScheduler(config, ctx);
    default:
      return new ChangeScheduler(config, ctx);
  }
}
