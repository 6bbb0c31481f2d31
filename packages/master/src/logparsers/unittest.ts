// Python's unittest runner (`python -m unittest [-v]`). Counts come from `Ran N tests` and
// the closing `OK (…)` / `FAILED (failures=…, errors=…, …)` line; failing names from the
// `FAIL: …` / `ERROR: …` headers, which every verbosity prints.
import { stripAnsi } from './lines.js';
import { type TestParserOptions, type TestResultParser, type TestSummary, TestTally } from './summary.js';

const RAN = /^Ran (\d+) tests? in /;
const CLOSING = /^(OK|FAILED)(?: \((.*)\))?$/;
const HEADER = /^(FAIL|ERROR|UNEXPECTED SUCCESS): (.+)$/;
const VERBOSE_RESULT = / \.\.\. (ok|FAIL|ERROR|skipped\b.*|expected failure|unexpected success)$/;

export class UnittestParser implements TestResultParser {
  readonly #tally: TestTally;
  #ran: number | undefined;
  #closing: Record<string, number> | undefined;
  /** From `-v` lines, for a run that never printed its totals. */
  readonly #live = { passed: 0, failed: 0, skipped: 0, todo: 0 };

  constructor(options: TestParserOptions = {}) {
    this.#tally = new TestTally(options);
  }

  line(raw: string): void {
    const text = stripAnsi(raw).trimEnd();
    const h = HEADER.exec(text);
    if (h) {
      this.#tally.addFailedName(h[2]!);
      return;
    }
    const ran = RAN.exec(text);
    if (ran) {
      this.#ran = Number(ran[1]);
      return;
    }
    const c = CLOSING.exec(text);
    if (c && this.#ran !== undefined) {
      const counts: Record<string, number> = {};
      for (const part of (c[2] ?? '').split(',')) {
        const [k, v] = part.split('=');
        if (k && v) counts[k.trim()] = Number(v);
      }
      this.#closing = counts;
      return;
    }
    const v = VERBOSE_RESULT.exec(text);
    if (v) {
      const r = v[1]!;
      if (r === 'ok' || r === 'unexpected success') this.#live.passed++;
      else if (r === 'FAIL' || r === 'ERROR') this.#live.failed++;
      else if (r === 'expected failure') this.#live.todo++;
      else this.#live.skipped++;
    }
  }

  summary(): TestSummary {
    const c = this.#closing;
    if (!c || this.#ran === undefined) return this.#tally.summary(this.#live);
    // Subtest failures count in `failures` but not in `Ran`, so passes cannot go negative.
    const failed = (c.failures ?? 0) + (c.errors ?? 0) + (c['unexpected successes'] ?? 0);
    const skipped = c.skipped ?? 0;
    const todo = c['expected failures'] ?? 0;
    return this.#tally.summary({
      passed: Math.max(0, this.#ran - failed - skipped - todo),
      failed,
      skipped,
      todo,
    });
  }
}
