// Real build histories recorded by record.ts (files in histories/), and what the estimator
// sees of them: finished builds as its history, a running build's output so far.
import { readFileSync } from 'node:fs';
import { type BuildHistory, PROFILE_POINTS } from '@lathe/master';

/** linesAt has this many samples: at 0, 5, 10 … 100 % of the step's time. */
export const LINE_SAMPLES = 21;

export interface RecordedStep {
  readonly name: string;
  readonly durationS: number;
  readonly lines: number;
  /** Lines written by k/20 of the step's time, k = 0 … 20. */
  readonly linesAt: readonly number[];
}
export interface RecordedBuild {
  /** The revision built, or the run's number. */
  readonly label: string;
  readonly load: string;
  /** The 1-minute load average when the build started (absent in older recordings). */
  readonly loadAvg1?: number;
  readonly steps: readonly RecordedStep[];
}
export interface RecordedHistory {
  readonly description: string;
  readonly command: string;
  readonly recordedAt: string;
  readonly builds: readonly RecordedBuild[];
}

export function readRecordedHistory(file: string): RecordedHistory {
  const h = JSON.parse(readFileSync(file, 'utf8')) as RecordedHistory;
  for (const b of h.builds)
    for (const s of b.steps)
      if (s.linesAt.length !== LINE_SAMPLES)
        throw new Error(`${file}: step ${s.name} has ${s.linesAt.length} samples`);
  return h;
}

export const durationOf = (b: RecordedBuild) => b.steps.reduce((sum, s) => sum + s.durationS, 0);

/** Lines written after `share` (0..1) of the step's time, interpolated between samples. */
export function linesBy(step: RecordedStep, share: number): number {
  const x = Math.min(1, Math.max(0, share)) * (LINE_SAMPLES - 1);
  const k = Math.floor(x);
  if (k >= LINE_SAMPLES - 1) return step.lines;
  const a = step.linesAt[k]!;
  const b = step.linesAt[k + 1]!;
  return Math.floor(a + (b - a) * (x - k));
}

/** A finished build as the master stores it: durations, line counts, output profile. */
export function toBuildHistory(b: RecordedBuild): BuildHistory {
  return {
    durationS: durationOf(b),
    steps: b.steps.map((s) => ({
      name: s.name,
      durationS: s.durationS,
      lines: s.lines,
      // As OutputTimeline.profile: nothing to learn from a silent step.
      ...(s.lines > 0 ? { profile: PROFILE_POINTS.map((x) => linesBy(s, x) / s.lines) } : {}),
    })),
  };
}
