// Buildbot's Periodic scheduler: a buildset every periodicBuildTimer seconds, the first
// at once.

import { TimedScheduler } from './timed.js';
import type { ResolvedPeriodicConfig } from './timed-config.js';

export class PeriodicScheduler extends TimedScheduler<ResolvedPeriodicConfig> {
  protected nextRunAfter(lastRun: number | null, now: number): number {
    return lastRun === null ? now : lastRun + this.config.periodicBuildTimer * 1000;
  }
}
