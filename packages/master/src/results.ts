// Build and step results with Buildbot's numeric values (they appear on the wire, in the
// database and in Buildbot's REST API, so they must not change) and its combination rules.

export const SUCCESS = 0;
export const WARNINGS = 1;
export const FAILURE = 2;
export const SKIPPED = 3;
export const EXCEPTION = 4;
export const RETRY = 5;
export const CANCELLED = 6;

export type Result = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export const RESULT_NAMES = [
  'success',
  'warnings',
  'failure',
  'skipped',
  'exception',
  'retry',
  'cancelled',
] as const;
export type ResultName = (typeof RESULT_NAMES)[number];

export function isResult(value: unknown): value is Result {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 6;
}

export function resultName(result: Result | null | undefined): ResultName | 'not finished' {
  return result == null ? 'not finished' : RESULT_NAMES[result];
}

export function resultFromName(name: string): Result {
  const i = RESULT_NAMES.indexOf(name as ResultName);
  if (i < 0) throw new RangeError(`unknown result name ${JSON.stringify(name)}`);
  return i as Result;
}

// Worst first. Not numeric order: SKIPPED (3) is milder than SUCCESS, and CANCELLED (6)
// must dominate everything so a cancelled build never shows as anything else.
const SEVERITY: readonly Result[] = [CANCELLED, RETRY, EXCEPTION, FAILURE, WARNINGS, SUCCESS, SKIPPED];

/** The worse of two results; `null` (nothing yet) yields the other. */
export function worstResult(a: Result | null, b: Result | null): Result | null {
  for (const r of SEVERITY) if (r === a || r === b) return r;
  return null;
}

/** How a step's result affects the build — Buildbot's step attributes of the same names. */
export interface ResultPolicy {
  readonly haltOnFailure?: boolean;
  readonly flunkOnWarnings?: boolean;
  readonly flunkOnFailure?: boolean;
  readonly warnOnWarnings?: boolean;
  readonly warnOnFailure?: boolean;
}

/** Buildbot's step defaults: failures fail the build, warnings warn it, nothing halts. */
export const DEFAULT_RESULT_POLICY: Required<ResultPolicy> = {
  haltOnFailure: false,
  flunkOnWarnings: false,
  flunkOnFailure: true,
  warnOnWarnings: true,
  warnOnFailure: false,
};

/**
 * Folds one step result into the build result so far (Buildbot's
 * computeResultAndTermination): returns the new build result and whether the build must
 * stop running further steps.
 */
export function combineStepResult(
  policy: ResultPolicy,
  stepResult: Result,
  buildSoFar: Result | null,
): { result: Result; terminate: boolean } {
  // Only flags that are set override the defaults: a step class declaring `haltOnFailure?`
  // as a field has it present but undefined, which must not read as false.
  const p = { ...DEFAULT_RESULT_POLICY };
  for (const key of Object.keys(p) as (keyof ResultPolicy)[]) {
    const value = policy[key];
    if (value !== undefined) p[key] = value;
  }
  let contribution: Result = stepResult;
  let terminate = false;
  if (stepResult === FAILURE) {
    if (!p.flunkOnFailure) contribution = SUCCESS;
    if (p.warnOnFailure) contribution = WARNINGS;
    if (p.flunkOnFailure) contribution = FAILURE;
    if (p.haltOnFailure) terminate = true;
  } else if (stepResult === WARNINGS) {
    contribution = p.warnOnWarnings ? WARNINGS : SUCCESS;
    if (p.flunkOnWarnings) contribution = FAILURE;
  } else if (stepResult === EXCEPTION || stepResult === RETRY || stepResult === CANCELLED) {
    terminate = true;
  }
  return { result: worstResult(buildSoFar, contribution) ?? contribution, terminate };
}

/** The result of a build whose steps finished with these results under these policies. */
export function computeBuildResult(steps: readonly { result: Result; policy?: ResultPolicy }[]): Result {
  // A build starts out successful, as in Buildbot: all-skipped steps give SUCCESS.
  let build: Result = SUCCESS;
  for (const s of steps) {
    const { result, terminate } = combineStepResult(s.policy ?? {}, s.result, build);
    build = result;
    if (terminate) break;
  }
  return build;
}
