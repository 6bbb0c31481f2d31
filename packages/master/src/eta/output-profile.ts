// How a step's output is spread over its time. Output lines are the ETA's best live signal,
// but read as "lines so far / usual lines = share of the step done" they assume output comes
// at an even pace. Most steps do not: a compiler prints as it goes, a test runner may print
// little until its summary, a checkout prints its progress first. So each finished step
// records its profile — the share of its lines written by 25, 50 and 75 % of its time — and
// the estimator maps the share of lines seen onto a share of time through the usual profile.

/** The shares of a step's time at which its output progress is recorded. */
export const PROFILE_POINTS = [0.25, 0.5, 0.75] as const;

/** Line shares at PROFILE_POINTS, each in [0, 1] and non-decreasing. */
export type OutputProfile = readonly number[];

/** Bounded: a long, chatty step keeps at most this many samples (thinned evenly). */
const MAX_SAMPLES = 512;

/** A running step's cumulative output over time, turned into its profile when it ends. */
export class OutputTimeline {
  #times: number[] = [];
  #lines: number[] = [];

  constructor(readonly startedAt: number) {}

  /** `lines` written in total by time `at` (seconds, the clock the build uses). */
  add(at: number, lines: number): void {
    const last = this.#times.length - 1;
    if (last >= 0 && at <= this.#times[last]!) {
      this.#lines[last] = Math.max(this.#lines[last]!, lines);
      return;
    }
    this.#times.push(at);
    this.#lines.push(lines);
    if (this.#times.length > MAX_SAMPLES) {
      // Keep every other sample: resolution halves, the shape stays.
      this.#times = this.#times.filter((_, i) => i % 2 === 0);
      this.#lines = this.#lines.filter((_, i) => i % 2 === 0);
    }
  }

  /**
   * The profile of a step that ended at `endedAt` having written `totalLines`; undefined
   * when it wrote nothing or took no measurable time (nothing to learn).
   */
  profile(endedAt: number, totalLines: number): OutputProfile | undefined {
    const duration = endedAt - this.startedAt;
    if (!(duration > 0) || !(totalLines > 0)) return undefined;
    return PROFILE_POINTS.map((p) => Math.min(1, this.#linesAt(this.startedAt + p * duration) / totalLines));
  }

  /** Lines written by `at`, interpolated between samples (0 before the first). */
  #linesAt(at: number): number {
    let prevT = this.startedAt;
    let prevL = 0;
    for (let i = 0; i < this.#times.length; i++) {
      const t = this.#times[i]!;
      const l = this.#lines[i]!;
      if (t >= at) return t === prevT ? l : prevL + ((l - prevL) * (at - prevT)) / (t - prevT);
      prevT = t;
      prevL = l;
    }
    return prevL;
  }
}

/**
 * The share of its time a step with `profile` has used when it has written `lineShare` of
 * its lines: the inverse of the profile, piecewise linear through (0, 0) and (1, 1).
 */
export function timeShareOf(profile: OutputProfile, lineShare: number): number {
  const xs = [0, ...PROFILE_POINTS, 1];
  const ys = [0, ...profile, 1];
  if (lineShare <= 0) return 0;
  if (lineShare >= 1) return 1;
  for (let i = 1; i < xs.length; i++) {
    const y0 = ys[i - 1]!;
    const y1 = ys[i]!;
    if (lineShare <= y1) {
      // A flat stretch (no output in that part of the step): its start is the earliest time.
      if (y1 === y0) return xs[i - 1]!;
      return xs[i - 1]! + ((xs[i]! - xs[i - 1]!) * (lineShare - y0)) / (y1 - y0);
    }
  }
  return 1;
}

/** A usual profile from several: the median share at each point, made non-decreasing. */
export function medianProfile(
  profiles: readonly OutputProfile[],
  median: (v: number[]) => number | undefined,
): OutputProfile | undefined {
  const valid = profiles.filter((p) => p.length === PROFILE_POINTS.length);
  if (valid.length === 0) return undefined;
  let floor = 0;
  return PROFILE_POINTS.map((_, i) => {
    floor = Math.max(floor, median(valid.map((p) => p[i]!)) ?? 0);
    return floor;
  });
}
