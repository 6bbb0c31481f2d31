// The search for the first bad change among n. Position p (1..n) means "the tree at change
// p of the blamelist, oldest first"; position 0, the last passing build, is taken as good
// and position n, the failing build, is bad. Each step builds one position. Suspects are
// tried first — a suspect p is confirmed by p bad and p-1 good — but only while the worst
// case still fits the budget of ⌈log₂ n⌉ + 1 builds; otherwise the range is halved, which
// never needs more than ⌈log₂ n⌉.

export function bisectBudget(n: number): number {
  return n <= 1 ? 0 : ceilLog2(n) + 1;
}

export class BisectPlan {
  #good = 0;
  #bad: number;
  #built = 0;
  readonly budget: number;

  /** `suspects`: positions (1..n), best first. */
  constructor(
    readonly n: number,
    readonly suspects: readonly number[],
  ) {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`a bisection needs at least one change, got ${n}`);
    this.#bad = n;
    this.budget = bisectBudget(n);
  }

  /** The first bad position once known, else null. */
  get firstBad(): number | null {
    return this.#bad - this.#good === 1 ? this.#bad : null;
  }

  /** The next position to build, or null when the first bad one is known (or nothing is left to spend). */
  next(): number | null {
    if (this.firstBad !== null) return null;
    const left = this.budget - this.#built;
    for (const s of this.suspects) {
      for (const p of [s, s - 1]) if (this.#fits(p, left)) return p;
    }
    const mid = this.#good + Math.floor((this.#bad - this.#good) / 2);
    return this.#fits(mid, left) ? mid : null;
  }

  record(position: number, good: boolean): void {
    if (!(position > this.#good && position < this.#bad))
      throw new RangeError(`position ${position} is outside the open range (${this.#good}, ${this.#bad})`);
    this.#built++;
    if (good) this.#good = position;
    else this.#bad = position;
  }

  // Building p leaves p-good candidates if it is bad, bad-p if good; what is left must
  // still be searchable by halving within the budget.
  #fits(p: number, left: number): boolean {
    if (!(p > this.#good && p < this.#bad)) return false;
    const worst = Math.max(p - this.#good, this.#bad - p);
    return 1 + ceilLog2(worst) <= left;
  }
}

function ceilLog2(n: number): number {
  return n <= 1 ? 0 : Math.ceil(Math.log2(n));
}
