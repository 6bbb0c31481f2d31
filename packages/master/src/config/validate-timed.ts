// Validation of what only the timed schedulers (periodicScheduler, nightlyScheduler) have:
// their timing, checked by croner itself for a nightly pattern and time zone, and onlyIfChanged.
import { compileCron } from '../schedulers/nightly.js';
import type { ResolvedTimedSchedulerConfig } from '../schedulers/timed-config.js';
import type { Reporter } from './validate-changes.js';

export const TIMED_SCHEDULER_FIELDS = new Set([
  'kind',
  'name',
  'builderNames',
  'onlyIfChanged',
  'changeFilter',
  'fileIsImportant',
  'onlyImportant',
  'properties',
  'reason',
  'priority',
  'periodicBuildTimer',
  'cron',
  'timezone',
]);

type Common = Omit<
  ResolvedTimedSchedulerConfig,
  'kind' | 'onlyIfChanged' | 'periodicBuildTimer' | 'cron' | 'timezone'
>;

export function resolveTimedFields(
  s: Record<string, unknown>,
  common: Common,
  issue: Reporter,
): ResolvedTimedSchedulerConfig {
  if (s.onlyIfChanged !== undefined && typeof s.onlyIfChanged !== 'boolean')
    issue('onlyIfChanged', 'must be true or false');
  const onlyIfChanged = s.onlyIfChanged === true;
  if (s.kind === 'Periodic') {
    const seconds = s.periodicBuildTimer;
    if (!(typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0))
      issue(
        'periodicBuildTimer',
        'must be a positive number of seconds',
        seconds === undefined ? null : undefined,
      );
    return { kind: 'Periodic', ...common, onlyIfChanged, periodicBuildTimer: seconds as number };
  }
  const { cron, timezone = null } = s;
  if (typeof cron !== 'string' || cron.trim() === '')
    issue('cron', 'must be a cron pattern such as "0 3 * * *"', cron === undefined ? null : undefined);
  else if (timezone !== null && (typeof timezone !== 'string' || timezone === ''))
    issue('timezone', 'must be an IANA time zone name such as "Europe/Berlin"');
  else {
    try {
      compileCron(cron, timezone as string | null);
    } catch (err) {
      issue(
        timezone !== null && /zone/i.test((err as Error).message) ? 'timezone' : 'cron',
        (err as Error).message,
      );
    }
  }
  return {
    kind: 'Nightly',
    ...common,
    onlyIfChanged,
    cron: cron as string,
    timezone: timezone as string | null,
  };
}
