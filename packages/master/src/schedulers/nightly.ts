// Buildbot's Nightly scheduler with a cron pattern (parsed by croner) read in a time
// zone: a buildset at each time the pattern names, the first at the next such time after
// the scheduler starts.
import { Cron } from 'croner';
import { TimedScheduler } from './timed.js';
import type { ResolvedNightlyConfig } from './timed-config.js';

/** Parses a pattern once; throws croner's error for a bad pattern or time zone. */
export function compileCron(pattern: string, timezone: string | null): Cron {
  const cron = new Cron(pattern, { paused: true, ...(timezone !== null && { timezone }) });
  cron.nextRun(); // a bad time zone shows only when a date is converted
  return cron;
}

export class NightlyScheduler extends TimedScheduler<ResolvedNightlyConfig> {
  #cron: { readonly key: string; readonly cron: Cron } | null = null;

  protected nextRunAfter(lastRun: number | null, now: number): number | null {
    const { cron: pattern, timezone } = this.config;
    const key = JSON.stringify([pattern, timezone]);
    if (this.#cron?.key !== key) this.#cron = { key, cron: compileCron(pattern, timezone) };
    return this.#cron.cron.nextRun(new Date(lastRun ?? now))?.getTime() ?? null;
  }
}
