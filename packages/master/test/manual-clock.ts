// A clock the test moves by hand, for schedulers that would otherwise wait for hours.
import type { Clock, ClockTimer } from '../src/schedulers/clock.js';

interface Timer {
  readonly at: number;
  readonly callback: () => void;
}

export class ManualClock implements Clock {
  #now: number;
  readonly #timers = new Set<Timer>();

  constructor(start: Date) {
    this.#now = start.getTime();
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): ClockTimer {
    const timer = { at: this.#now + Math.max(0, delayMs), callback };
    this.#timers.add(timer);
    return { cancel: () => this.#timers.delete(timer) };
  }

  /** How many timers wait to fire. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Sets the time, firing each timer due by then at its own time, earliest first. */
  advanceTo(when: Date | number): void {
    const end = typeof when === 'number' ? when : when.getTime();
    for (;;) {
      const due = [...this.#timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers.delete(due);
      this.#now = Math.max(this.#now, due.at);
      due.callback();
    }
    this.#now = Math.max(this.#now, end);
  }

  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }
}
