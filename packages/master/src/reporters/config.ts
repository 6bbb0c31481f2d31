// The config's `reporters`: each entry attaches generators to a reporter, any object that
// implements Reporter (the built-in ones, other helpers' classes, a user's own). Validated
// like the rest of the config: every problem collected, located in the file.
import { definedAt } from '../config/define.js';
import type { ConfigIssue } from '../config/errors.js';
import type { SourceLocator } from '../config/locate.js';
import { DEFAULT_RETRY, type ReporterBinding, type RetryPolicy } from './delivery.js';
import type { ReportGenerator } from './generators.js';
import type { Reporter } from './report.js';

export interface ReporterEntry {
  readonly reporter: Reporter;
  /** What to report to it: `buildStatusGenerator(…)`, `workerMissingGenerator()`, … */
  readonly generators: readonly ReportGenerator[];
  /** How failed deliveries are retried; default 1 s doubling up to 5 minutes, with jitter. */
  readonly retry?: Partial<RetryPolicy>;
}

/** What a generator's `check` may look at. */
export interface GeneratorCheckContext {
  readonly builders: ReadonlySet<string>;
  readonly workers: ReadonlySet<string>;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const ENTRY_FIELDS = new Set(['reporter', 'generators', 'retry']);
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

function isPositive(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

export function resolveReporters(
  raw: unknown,
  known: GeneratorCheckContext,
  loc: SourceLocator,
  issues: ConfigIssue[],
): ReporterBinding[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    issues.push({ path: 'reporters', message: 'must be an array', location: loc.locateSetting('reporters') });
    return [];
  }
  const out: ReporterBinding[] = [];
  const seen = new Set<string>();
  const occurrences = new Map<string, number>();
  raw.forEach((entry: unknown, i) => {
    const reporter = isObject(entry) && isObject(entry.reporter) ? entry.reporter : undefined;
    const name = typeof reporter?.name === 'string' && reporter.name !== '' ? reporter.name : undefined;
    const nth = name === undefined ? 0 : (occurrences.get(name) ?? 0);
    if (name !== undefined) occurrences.set(name, nth + 1);
    const path = name === undefined ? `reporters[${i}]` : `reporters[${JSON.stringify(name)}]`;
    // The entry's own line: its `reporter:` (entries are rarely named where they are written).
    const entryLine = definedAt(entry) ? undefined : loc.locateNthField('reporters', 'reporter', i);
    const issue = (field: string | undefined, message: string) =>
      issues.push({
        path: field ? `${path}.${field}` : path,
        message,
        location: entryLine ?? loc.locate(entry, name, field, nth),
      });
    if (!isObject(entry)) {
      issue(undefined, 'must be an object like { reporter: new MailReporter({…}), generators: […] }');
      return;
    }
    for (const key of Object.keys(entry)) if (!ENTRY_FIELDS.has(key)) issue(key, 'unknown field');
    let ok = true;
    if (!reporter || typeof reporter.deliver !== 'function') {
      issue('reporter', 'must be a reporter (an object with a name and a deliver(report, context) method)');
      ok = false;
    } else if (name === undefined) {
      issue('reporter', 'the reporter needs a non-empty name (it names its delivery cursor)');
      ok = false;
    } else if (!NAME_RE.test(name) || name.length > 100) {
      issue('reporter', `name ${JSON.stringify(name)} must be at most 100 letters, digits and _ . + -`);
      ok = false;
    } else if (seen.has(name)) {
      issue('reporter', `name ${JSON.stringify(name)} is used by another reporter`);
      ok = false;
    } else seen.add(name);
    for (const method of ['start', 'stop'] as const)
      if (reporter && reporter[method] !== undefined && typeof reporter[method] !== 'function')
        issue('reporter', `${method} must be a method`);

    const generators = entry.generators;
    if (!Array.isArray(generators) || generators.length === 0) {
      issue('generators', 'must list at least one generator, e.g. buildStatusGenerator({ mode: "failing" })');
      ok = false;
    } else
      generators.forEach((g: unknown, j) => {
        if (!isObject(g) || !Array.isArray(g.events) || typeof g.generate !== 'function') {
          issue(
            'generators',
            `generators[${j}] must be a generator (from buildStatusGenerator() and the like)`,
          );
          ok = false;
          return;
        }
        const check = (g as Partial<ReportGenerator>).check;
        for (const problem of check?.call(g, known) ?? []) {
          issue('generators', `generators[${j}] (${String(g.name)}): ${problem}`);
          ok = false;
        }
      });

    const retry = { ...DEFAULT_RETRY };
    if (entry.retry !== undefined) {
      if (!isObject(entry.retry))
        issue('retry', 'must be an object like { initialDelayMs: 1000, maxDelayMs: 300000 }');
      else {
        for (const key of ['initialDelayMs', 'maxDelayMs'] as const) {
          const v = entry.retry[key];
          if (v === undefined) continue;
          if (!isPositive(v)) issue('retry', `${key} must be a positive number of milliseconds`);
          else retry[key] = v;
        }
        if (retry.maxDelayMs < retry.initialDelayMs)
          issue('retry', 'maxDelayMs must not be below initialDelayMs');
      }
    }
    if (ok)
      out.push({
        reporter: reporter as unknown as Reporter,
        generators: generators as ReportGenerator[],
        retry,
      });
  });
  return out;
}
