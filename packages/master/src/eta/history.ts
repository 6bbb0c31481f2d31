// What the estimator learns from a builder's recent builds: per step, a typical duration
// and a typical amount of output.
import { ewma, median } from './stats.js';

export interface StepHistory {
  readonly name: string;
  readonly durationS: number;
  /** Output lines the step wrote; absent when unknown. */
  readonly lines?: number;
}

/** One finished, successful build of the builder, steps in the order they ran. */
export interface BuildHistory {
  readonly durationS: number;
  readonly steps: readonly StepHistory[];
}

export interface StepProfile {
  readonly name: string;
  readonly durationS: number;
  /** Typical output lines; undefined when the history has no line counts. */
  readonly lines: number | undefined;
  readonly samples: number;
}

export interface ProfileOptions {
  /** How many of the most recent builds to learn from (default 10). */
  readonly maxBuilds?: number;
  /** 'median' (default) shrugs off a single slow outlier; 'ewma' follows trends faster. */
  readonly center?: 'median' | 'ewma';
  readonly ewmaAlpha?: number;
}

/**
 * Per-step profiles from history given oldest first. Also returns the usual step order
 * (that of the most recent build), which stands in for the plan when none is given.
 */
export function profileSteps(
  history: readonly BuildHistory[],
  options: ProfileOptions = {},
): { profiles: Map<string, StepProfile>; order: string[] } {
  const recent = history.slice(-(options.maxBuilds ?? 10));
  const center =
    options.center === 'ewma'
      ? (v: number[]) => ewma(v, options.ewmaAlpha ?? 0.3)
      : (v: number[]) => median(v);
  const durations = new Map<string, number[]>();
  const lines = new Map<string, number[]>();
  for (const b of recent) {
    for (const s of b.steps) {
      if (!Number.isFinite(s.durationS) || s.durationS < 0) continue;
      durations.set(s.name, [...(durations.get(s.name) ?? []), s.durationS]);
      if (s.lines !== undefined) lines.set(s.name, [...(lines.get(s.name) ?? []), s.lines]);
    }
  }
  const profiles = new Map<string, StepProfile>();
  for (const [name, d] of durations) {
    const l = lines.get(name);
    profiles.set(name, {
      name,
      durationS: center(d)!,
      lines: l && l.length > 0 ? center(l) : undefined,
      samples: d.length,
    });
  }
  const order = recent.at(-1)?.steps.map((s) => s.name) ?? [];
  return { profiles, order };
}
