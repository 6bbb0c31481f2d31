// The time schedulers run on. The master uses the real clock; tests pass one they move by
// hand, so a nightly scheduler can be checked without waiting for the night.

export interface ClockTimer {
  cancel(): void;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `callback` once, `delayMs` from now (at once when not positive). */
  setTimer(callback: () => void, delayMs: number): ClockTimer;
}

// setTimeout fires at once for delays above 2^31-1 ms (about 24.8 days); a monthly cron
// entry is further away than that, so longer waits are made of several timers.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    const due = Date.now() + Math.max(0, delayMs);
    let handle: NodeJS.Timeout;
    const arm = () => {
      const left = due - Date.now();
      handle = setTimeout(
        left > MAX_TIMEOUT_MS ? arm : callback,
        Math.min(Math.max(0, left), MAX_TIMEOUT_MS),
      );
    };
    arm();
    return { cancel: () => clearTimeout(handle) };
  },
};
