// Metric names, so that the runner, the UI and the ETA agree on them. Step names may hold
// any character except that a dot would make names ambiguous, so they are kept verbatim
// between the fixed prefix and suffix.

export const BUILD_DURATION = 'build.duration_s';

export function stepMetric(stepName: string, what: string): string {
  return `step:${stepName}:${what}`;
}

export const stepDuration = (stepName: string): string => stepMetric(stepName, 'duration_s');
export const stepLines = (stepName: string): string => stepMetric(stepName, 'lines');
/** Share of the step's lines written by `point` (0.25 → `lines_at_25`) of its time. */
export const stepLinesAt = (stepName: string, point: number): string =>
  stepMetric(stepName, `lines_at_${Math.round(point * 100)}`);
export const stepWarnings = (stepName: string): string => stepMetric(stepName, 'warnings');

export const TEST_COUNT_KINDS = ['passed', 'failed', 'skipped', 'todo', 'total'] as const;

export function stepTests(stepName: string, kind: (typeof TEST_COUNT_KINDS)[number]): string {
  return stepMetric(stepName, `tests.${kind}`);
}

/** Build-wide totals, summed over steps. */
export const BUILD_WARNINGS = 'warnings';
export const buildTests = (kind: (typeof TEST_COUNT_KINDS)[number]): string => `tests.${kind}`;
