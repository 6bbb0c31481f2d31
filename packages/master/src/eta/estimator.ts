// Estimates when a running build and its current step will finish.
//
// Each step is expected to take its typical duration from recent successful builds. Two
// live signals refine that: (1) steps already finished show whether this build runs slow
// or fast (a loaded worker slows every step), and that ratio — shrunk toward 1, since step
// noise is partly independent — scales what remains; (2) the running step's output so far,
// against its typical line count, shows how far along it is, as Buildbot's progress
// metrics did. The line signal gains weight as more of the expected output has appeared.
import { type BuildHistory, type ProfileOptions, profileSteps, type StepProfile } from './history.js';
import { timeShareOf } from './output-profile.js';
import { clamp } from './stats.js';

export interface EtaOptions extends ProfileOptions {
  /** The steps this build will run, in order; default: the latest build's steps. */
  readonly steps?: readonly string[];
  /**
   * How much of the observed slow/fast ratio to trust (0 = none, 1 = all; default 0.15).
   * Low, because a step's own noise mostly explains why it ran slow, not the worker.
   */
  readonly speedTrust?: number;
  /** Use output lines as a progress signal (default true). */
  readonly useLines?: boolean;
  /** A step past its usual time is expected to need this share of its elapsed time more. */
  readonly overrunShare?: number;
}

export interface EtaEstimate {
  /** Epoch seconds when the build should finish; undefined without usable history. */
  readonly buildEta: number | undefined;
  /** Epoch seconds when the running step should finish. */
  readonly stepEta: number | undefined;
  readonly buildRemainingS: number | undefined;
  readonly stepRemainingS: number | undefined;
  /** Share of the expected work done, 0..1. */
  readonly progress: number | undefined;
}

// The line signal earns trust quickly: with a quarter of the usual output written it already
// carries 70 % of the weight. Chosen with bench/eta (share^1 and share^0.5 did worse).
const LINE_TRUST_EXPONENT = 0.25;

interface RunningStep {
  readonly name: string;
  readonly startedAt: number;
  lines: number;
}

export class EtaEstimator {
  readonly #profiles: Map<string, StepProfile>;
  readonly #plan: string[];
  readonly #speedTrust: number;
  readonly #useLines: boolean;
  readonly #overrunShare: number;
  readonly #done = new Set<string>();
  #startedAt: number | undefined;
  #running: RunningStep | undefined;
  #actualDone = 0;
  #expectedDone = 0;

  constructor(history: readonly BuildHistory[], options: EtaOptions = {}) {
    const { profiles, order } = profileSteps(history, options);
    this.#profiles = profiles;
    this.#plan = [...(options.steps ?? order)];
    this.#speedTrust = options.speedTrust ?? 0.15;
    this.#useLines = options.useLines ?? true;
    this.#overrunShare = options.overrunShare ?? 0.1;
  }

  /** True when history knows at least one step of the plan. */
  get hasHistory(): boolean {
    return this.#plan.some((s) => this.#profiles.has(s));
  }

  buildStarted(at: number): void {
    this.#startedAt = at;
  }

  stepStarted(name: string, at: number): void {
    this.#startedAt ??= at;
    this.#running = { name, startedAt: at, lines: 0 };
    if (!this.#plan.includes(name)) this.#plan.push(name);
  }

  /** The running step's output so far, as a cumulative line count. */
  stepOutput(name: string, totalLines: number): void {
    if (this.#running?.name === name) this.#running.lines = totalLines;
  }

  stepFinished(name: string, at: number): void {
    const r = this.#running;
    if (r?.name === name) {
      const p = this.#profiles.get(name);
      if (p) {
        this.#actualDone += at - r.startedAt;
        this.#expectedDone += p.durationS;
      }
      this.#running = undefined;
    }
    this.#done.add(name);
  }

  /** A step that will not run (skipped, or the build halts): nothing to wait for. */
  stepSkipped(name: string): void {
    this.#done.add(name);
  }

  /** How much slower (>1) or faster (<1) than usual this build runs so far. */
  #speed(now: number): number {
    let actual = this.#actualDone;
    let expected = this.#expectedDone;
    const r = this.#running;
    const p = r && this.#profiles.get(r.name);
    // A running step that has already overrun is evidence too, up to what it has shown.
    if (r && p && now - r.startedAt > p.durationS) {
      actual += now - r.startedAt;
      expected += p.durationS;
    }
    if (expected <= 0) return 1;
    return clamp(1 + this.#speedTrust * (actual / expected - 1), 0.5, 3);
  }

  #runningRemaining(now: number, speed: number): number {
    const r = this.#running!;
    const p = this.#profiles.get(r.name);
    const elapsed = now - r.startedAt;
    if (!p) return 0;
    const expected = p.durationS * speed;
    // Past its usual time: assume it is nearly done, but not done, so the ETA keeps moving.
    let byTime = expected > elapsed ? expected - elapsed : Math.max(this.#overrunShare * elapsed, 1);
    if (this.#useLines && p.lines && r.lines > 0 && elapsed > 0) {
      const share = r.lines / p.lines;
      if (share < 1) {
        // The share of its time the step has used, by how its output usually comes.
        const done = p.profile ? timeShareOf(p.profile, share) : share;
        const byLines = done > 0 ? (elapsed * (1 - done)) / done : byTime;
        const w = done ** LINE_TRUST_EXPONENT;
        byTime = w * byLines + (1 - w) * byTime;
      }
    }
    return byTime;
  }

  estimate(now: number): EtaEstimate {
    if (!this.hasHistory) {
      return {
        buildEta: undefined,
        stepEta: undefined,
        buildRemainingS: undefined,
        stepRemainingS: undefined,
        progress: undefined,
      };
    }
    const speed = this.#speed(now);
    const stepRemaining = this.#running ? this.#runningRemaining(now, speed) : undefined;
    let future = 0;
    for (const name of this.#plan) {
      if (this.#done.has(name) || name === this.#running?.name) continue;
      future += (this.#profiles.get(name)?.durationS ?? 0) * speed;
    }
    const remaining = (stepRemaining ?? 0) + future;
    const elapsed = this.#startedAt === undefined ? 0 : now - this.#startedAt;
    return {
      buildEta: now + remaining,
      stepEta: stepRemaining === undefined ? undefined : now + stepRemaining,
      buildRemainingS: remaining,
      stepRemainingS: stepRemaining,
      progress: elapsed + remaining > 0 ? elapsed / (elapsed + remaining) : undefined,
    };
  }
}
