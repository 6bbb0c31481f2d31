// Generators decide what is worth reporting (Buildbot's split, typed): each looks at the
// outbox events of one kind, applies its filters and mode, and reads what the report says
// from the database. A config attaches them to reporters (reporters/config.ts).
import type { ReportEventKind, ReportEventRow } from '../data/report-events.js';
import { EXCEPTION, FAILURE, isResult, type Result, SUCCESS, WARNINGS } from '../results.js';
import type { GeneratorCheckContext } from './config.js';
import type { ReportReader } from './read.js';
import type { BuildReport, BuildsetReport, Report, ReportBuild, WorkerMissingReport } from './report.js';

/**
 * Which finished builds to report: `all`; `failing` (FAILURE); `passing` (SUCCESS);
 * `problem` (FAILURE after a passing build); `change` (a result different from the previous
 * build's); `warnings` (WARNINGS or FAILURE); `exception` (EXCEPTION). Several modes: any.
 */
export type ReportMode = 'all' | 'failing' | 'passing' | 'problem' | 'change' | 'warnings' | 'exception';
export const REPORT_MODES: readonly ReportMode[] = [
  'all',
  'failing',
  'passing',
  'problem',
  'change',
  'warnings',
  'exception',
];

/** Narrows reports to some builds; an absent list lets everything through. */
export interface BuildFilter {
  readonly builders?: readonly string[];
  /** Builds of builders carrying any of these tags. */
  readonly tags?: readonly string[];
  readonly branches?: readonly (string | null)[];
  readonly projects?: readonly string[];
  readonly results?: readonly Result[];
}

export interface ReportGenerator {
  /** What it is, for status and validation messages (`buildStatus`, `workerMissing`…). */
  readonly name: string;
  /** The outbox events it looks at. */
  readonly events: readonly ReportEventKind[];
  /** The report for one event, or null when this event is not for it. `key` is the report's key. */
  generate(event: ReportEventRow, reader: ReportReader, key: string): Promise<Report | null>;
  /** Problems with its options, found when the config is validated (unknown builders, modes). */
  check?(config: GeneratorCheckContext): readonly string[];
}

function checkFilter(
  filter: BuildFilter & { readonly mode?: ReportMode | readonly ReportMode[] },
  config: GeneratorCheckContext,
): string[] {
  const problems: string[] = [];
  const modes =
    filter.mode === undefined ? [] : typeof filter.mode === 'string' ? [filter.mode] : filter.mode;
  if (!Array.isArray(modes)) problems.push('mode must be a mode or a list of modes');
  else
    for (const m of modes)
      if (!REPORT_MODES.includes(m))
        problems.push(`unknown mode ${JSON.stringify(m)} (one of ${REPORT_MODES.join(', ')})`);
  for (const b of filter.builders ?? [])
    if (!config.builders.has(b)) problems.push(`builders names unknown builder ${JSON.stringify(b)}`);
  for (const r of filter.results ?? [])
    if (!isResult(r))
      problems.push(`results must be result values 0..6 (SUCCESS, FAILURE, …), got ${JSON.stringify(r)}`);
  for (const key of ['builders', 'tags', 'branches', 'projects', 'results'] as const)
    if (filter[key] !== undefined && !Array.isArray(filter[key])) problems.push(`${key} must be an array`);
  return problems;
}

export interface BuildStatusOptions extends BuildFilter {
  /** Default 'all'. */
  readonly mode?: ReportMode | readonly ReportMode[];
}

export function matchesFilter(filter: BuildFilter, build: ReportBuild): boolean {
  if (filter.builders && !filter.builders.includes(build.builderName)) return false;
  if (filter.tags && !filter.tags.some((t) => build.tags.includes(t))) return false;
  if (filter.branches && !filter.branches.includes(build.branch)) return false;
  if (filter.projects && !(build.project !== null && filter.projects.includes(build.project))) return false;
  if (filter.results && !(build.results !== null && filter.results.includes(build.results))) return false;
  return true;
}

const MODE_TESTS: Readonly<Record<ReportMode, (results: Result, previous: Result | null) => boolean>> = {
  all: () => true,
  failing: (r) => r === FAILURE,
  passing: (r) => r === SUCCESS,
  problem: (r, p) => r === FAILURE && (p === SUCCESS || p === WARNINGS),
  change: (r, p) => p !== null && p !== r,
  warnings: (r) => r === WARNINGS || r === FAILURE,
  exception: (r) => r === EXCEPTION,
};

export function matchesMode(
  mode: ReportMode | readonly ReportMode[],
  results: Result,
  previous: Result | null,
): boolean {
  const modes: readonly ReportMode[] = typeof mode === 'string' ? [mode] : mode;
  return modes.some((m) => MODE_TESTS[m](results, previous));
}

/** A finished build that passes the filters and the mode: the build, its blame, failing steps. */
export function buildStatusGenerator(options: BuildStatusOptions = {}): ReportGenerator {
  const mode = options.mode ?? 'all';
  return {
    name: 'buildStatus',
    events: ['build-finished'],
    check: (config) => checkFilter(options, config),
    async generate(event, reader, key): Promise<BuildReport | null> {
      const build = await reader.build(event.subjectId);
      if (!build || build.results === null || !matchesFilter(options, build)) return null;
      const previousResults = await reader.previousResults(build);
      if (!matchesMode(mode, build.results, previousResults)) return null;
      const passed = build.results === SUCCESS || build.results === WARNINGS;
      return {
        kind: 'build-finished',
        key,
        at: event.at,
        build,
        previousResults,
        blamelist: await reader.blamelist(build.buildid),
        failedSteps: passed ? [] : await reader.failedSteps(build.buildid),
        bisection: passed ? null : await reader.bisection(build.buildid),
      };
    },
  };
}

/** A build that started and passes the filters (`results` does not apply). */
export function buildStartedGenerator(filter: Omit<BuildFilter, 'results'> = {}): ReportGenerator {
  return {
    name: 'buildStarted',
    events: ['build-started'],
    check: (config) => checkFilter(filter, config),
    async generate(event, reader, key): Promise<BuildReport | null> {
      const build = await reader.build(event.subjectId);
      if (!build || !matchesFilter(filter, { ...build, results: null })) return null;
      return {
        kind: 'build-started',
        key,
        at: event.at,
        // As it was when it started, even when the report is read after it finished.
        build: { ...build, results: null, completeAt: null },
        previousResults: await reader.previousResults(build),
        blamelist: await reader.blamelist(build.buildid),
        failedSteps: [],
        bisection: null,
      };
    },
  };
}

/**
 * A completed buildset with at least one build passing the filters; the mode applies to the
 * buildset's result (`problem` and `change` compare nothing: a buildset has no previous one).
 */
export function buildsetStatusGenerator(options: BuildStatusOptions = {}): ReportGenerator {
  const mode = options.mode ?? 'all';
  return {
    name: 'buildsetStatus',
    events: ['buildset-finished'],
    check: (config) => checkFilter(options, config),
    async generate(event, reader, key): Promise<BuildsetReport | null> {
      const buildset = await reader.buildset(event.subjectId);
      if (!buildset || buildset.results === null) return null;
      if (!buildset.builds.some((b) => matchesFilter(options, b))) return null;
      if (!matchesMode(mode, buildset.results, null)) return null;
      return {
        kind: 'buildset-finished',
        key,
        at: event.at,
        buildsetid: event.subjectId,
        results: buildset.results,
        reason: buildset.reason,
        builds: buildset.builds,
        blamelist: await reader.buildsetChanges(buildset.builds.map((b) => b.buildid)),
      };
    },
  };
}

/**
 * A worker gone longer than its `missingTimeout`, or a latent worker that could not be
 * started `startAttempts` times in a row, to its `notifyOnMissing` addresses.
 */
export function workerMissingGenerator(
  options: { readonly workers?: readonly string[] } = {},
): ReportGenerator {
  return {
    name: 'workerMissing',
    events: ['worker-missing'],
    check: (config) =>
      (options.workers ?? []).flatMap((w) =>
        config.workers.has(w) ? [] : [`workers names unknown worker ${JSON.stringify(w)}`],
      ),
    async generate(event, reader, key): Promise<WorkerMissingReport | null> {
      const name = String(event.details.name ?? '');
      if (options.workers && !options.workers.includes(name)) return null;
      const lastSeen = typeof event.details.lastSeen === 'number' ? event.details.lastSeen : null;
      const { startAttempts, startError } = event.details;
      return {
        kind: 'worker-missing',
        key,
        at: event.at,
        workerName: name,
        notify: reader.notifyOnMissing(name),
        lastSeen,
        missingSeconds: lastSeen === null ? 0 : event.at - lastSeen,
        ...(typeof startAttempts === 'number' && {
          startFailure: { attempts: startAttempts, error: String(startError ?? '') },
        }),
      };
    },
  };
}
