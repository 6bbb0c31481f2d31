// When a test is flaky: it passed and failed on the same revision within 14 days. Only the
// failure a pass contradicts counts as a flake (a failure no pass of its revision answers is
// an ordinary failure), and the flag clears after 5 consecutive passes, or 14 days after the
// last contradiction. Pure rules: data/test-history.ts applies them as runs are recorded.

export const FLAKY_WINDOW_SECONDS = 14 * 24 * 3600;
export const FLAKY_CLEARING_PASSES = 5;

export interface FlakyState {
  /** Epoch seconds the flag lasts until; null when the test is not flaky. */
  readonly flakyUntil: number | null;
  /** Consecutive passes since the last contradicted failure. */
  readonly passesSinceFlaky: number;
}

export interface RunVerdict {
  readonly outcome: 'pass' | 'fail' | 'skip' | 'todo';
  /** Failures this run newly contradicted: earlier failures a pass answers, or this failure itself. */
  readonly contradictions: number;
  readonly at: number;
}

export function isFlaky(state: FlakyState, now: number): boolean {
  return state.flakyUntil !== null && state.flakyUntil > now;
}

export function nextFlakyState(state: FlakyState, run: RunVerdict): FlakyState {
  if (run.contradictions > 0) return { flakyUntil: run.at + FLAKY_WINDOW_SECONDS, passesSinceFlaky: 0 };
  if (!isFlaky(state, run.at)) return { flakyUntil: null, passesSinceFlaky: 0 };
  if (run.outcome === 'fail') return { ...state, passesSinceFlaky: 0 };
  if (run.outcome !== 'pass') return state;
  const passes = state.passesSinceFlaky + 1;
  return passes >= FLAKY_CLEARING_PASSES
    ? { flakyUntil: null, passesSinceFlaky: 0 }
    : { ...state, passesSinceFlaky: passes };
}
