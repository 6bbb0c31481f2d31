// What every test-result parser reports, and the tally they share.
import type { LineConsumer } from './lines.js';

export interface TestSummary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** Expected failures and TODO tests: neither passes nor failures. */
  readonly todo: number;
  readonly total: number;
  /** Names of failing tests, in the order seen, at most `maxFailedNames`. */
  readonly failedNames: readonly string[];
  /** True when more tests failed than `failedNames` holds. */
  readonly failedNamesTruncated: boolean;
  /**
   * Every test's outcome by name, in the order first seen, at most `maxRecordedTests` (the
   * per-test history's input; a name seen twice keeps its worst outcome).
   */
  readonly outcomes?: readonly TestOutcome[];
  /** True when more tests ran than `outcomes` holds. */
  readonly outcomesTruncated?: boolean;
}

export interface TestOutcome {
  readonly name: string;
  readonly outcome: Outcome;
}

export interface TestResultParser extends LineConsumer {
  /** The counts so far; call after the last line for the final figures. */
  summary(): TestSummary;
}

export interface TestParserOptions {
  /** Bounds memory on huge failing suites (default 200). */
  readonly maxFailedNames?: number;
  /** Bounds the per-test outcomes kept for the test history (default 20,000). */
  readonly maxRecordedTests?: number;
}

export type Outcome = 'pass' | 'fail' | 'skip' | 'todo';

export class TestTally {
  passed = 0;
  failed = 0;
  skipped = 0;
  todo = 0;
  readonly #names: string[] = [];
  readonly #seen = new Set<string>();
  #truncated = false;
  readonly #max: number;
  readonly #outcomes = new Map<string, Outcome>();
  readonly #maxOutcomes: number;
  #outcomesTruncated = false;

  constructor(options: TestParserOptions = {}) {
    this.#max = options.maxFailedNames ?? 200;
    this.#maxOutcomes = options.maxRecordedTests ?? 20_000;
  }

  add(outcome: Outcome, name: string): void {
    this.#recordOutcome(outcome, name);
    if (outcome === 'pass') this.passed++;
    else if (outcome === 'skip') this.skipped++;
    else if (outcome === 'todo') this.todo++;
    else {
      this.failed++;
      this.addFailedName(name);
    }
  }

  #recordOutcome(outcome: Outcome, name: string): void {
    const before = this.#outcomes.get(name);
    if (before === undefined && this.#outcomes.size >= this.#maxOutcomes) {
      this.#outcomesTruncated = true;
      return;
    }
    // A test reported twice (a retried test, a parametrised name) failed if either run did.
    if (before !== 'fail') this.#outcomes.set(name, outcome);
  }

  /** Records a failing name without counting it (when counts come from a reporter's totals). */
  addFailedName(name: string): void {
    this.#recordOutcome('fail', name);
    if (this.#seen.has(name)) return;
    if (this.#names.length >= this.#max) {
      this.#truncated = true;
      return;
    }
    this.#names.push(name);
    this.#seen.add(name);
  }

  summary(override?: Partial<Record<'passed' | 'failed' | 'skipped' | 'todo', number>>): TestSummary {
    const passed = override?.passed ?? this.passed;
    const failed = override?.failed ?? this.failed;
    const skipped = override?.skipped ?? this.skipped;
    const todo = override?.todo ?? this.todo;
    return {
      passed,
      failed,
      skipped,
      todo,
      total: passed + failed + skipped + todo,
      failedNames: [...this.#names],
      failedNamesTruncated: this.#truncated || failed > this.#names.length,
      outcomes: [...this.#outcomes].map(([name, outcome]) => ({ name, outcome })),
      outcomesTruncated: this.#outcomesTruncated,
    };
  }
}

/**
 * node:test's own totals, which it prints after the tests (`ℹ tests 3` in spec output,
 * `# tests 3` in TAP). When present they win over counting, which cannot see tests a
 * failing hook never ran; cancelled tests count as failed.
 */
export class NodeTestTotals {
  readonly #values: Partial<Record<string, number>> = {};

  set(key: string, value: number): void {
    this.#values[key] = value;
  }

  /** The tally's summary with node:test's totals applied, if it printed them. */
  summary(tally: TestTally): TestSummary {
    const t = this.#values;
    if (t.tests === undefined) return tally.summary();
    return tally.summary({
      passed: t.pass ?? 0,
      failed: (t.fail ?? 0) + (t.cancelled ?? 0),
      skipped: t.skipped ?? 0,
      todo: t.todo ?? 0,
    });
  }
}
