// One scheduler service per configured entry, by kind.
import { ChangeScheduler } from './change-scheduler.js';
import type { ResolvedSchedulerConfig } from './config.js';
import { DependentScheduler } from './dependent.js';
import { ForceScheduler } from './force.js';
import type { Scheduler, SchedulerContext } from './scheduler.js';
import { TriggerableScheduler } from './triggerable.js';

export function createScheduler(config: ResolvedSchedulerConfig, ctx: SchedulerContext): Scheduler {
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
  }
}
