// What the estimator learns from a builder's recent builds: per step, a typical duration,
// a typical amount of output and how that output is spread over the step's time.
import { medianProfile, type OutputProfile } from './output-profile.js';
import { ewma, median } from './stats.js';

export interface StepHistory {
  readonly name: string;
  readonly durationS: number;
  /** Output lines the step wrote; absent when unknown. */
  readonly lines?: number;
  /** Share of those lines written by 25, 50 and 75 % of its time (output-profile.ts). */
  readonly profile?: OutputProfile;
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
  /** Typical output profile; undefined when the history recorded none (output assumed even). */
  readonly profile: OutputProfile | undefined;
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
  const shapes = new Map<string, OutputProfile[]>();
  for (const b of recent) {
    for (const s of b.steps) {
      if (!Number.isFinite(s.durationS) || s.durationS < 0) continue;
      durations.set(s.name, [...(durations.get(s.name) ?? []), s.durationS]);
      if (s.lines !== undefined) lines.set(s.name, [...(lines.get(s.name) ?? []), s.lines]);
      if (s.profile !== undefined) shapes.set(s.name, [...(shapes.get(s.name) ?? []), s.profile]);
    }
  }
  const profiles = new Map<string, StepProfile>();
  for (const [name, d] of durations) {
    const l = lines.get(name);
    profiles.set(name, {
      name,
      durationS: center(d)!,
      lines: l && l.length > 0 ? center(l) : undefined,
      profile: medianProfile(shapes.get(name) ?? [], (v) => median(v)),
      samples: d.length,
    });
  }
  const order = recent.at(-1)?.steps.map((s) => s.name) ?? [];
  return { profiles, order };
}
