// Automake's `make check` (the parallel test harness, and the serial one's result lines):
// one `PASS: name` line per test (per TAP test point with the TAP driver), then per
// directory a summary block `# TOTAL: 6`, `# PASS: 1`, … A recursive make prints one block
// per directory with tests: the blocks are summed, each standing for the result lines before
// it; result lines after the last block (a run cut short) are counted. XFAIL is an expected
// failure (todo); XPASS and ERROR fail the run as FAIL does.
import { stripAnsi } from './lines.js';
import {
  type Outcome,
  type TestParserOptions,
  type TestResultParser,
  type TestSummary,
  TestTally,
} from './summary.js';

const RESULT = /^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR): (.+)$/;
const SUMMARY = /^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR): +(\d+)$/;

const OUTCOMES: Readonly<Record<string, Outcome>> = {
  PASS: 'pass',
  FAIL: 'fail',
  XPASS: 'fail',
  ERROR: 'fail',
  SKIP: 'skip',
  XFAIL: 'todo',
};

export class AutomakeParser implements TestResultParser {
  readonly #tally: TestTally;
  /** The summary blocks' counts, summed. */
  readonly #blocks: Record<string, number> = {};
  /** Result lines since the last block, by result word. */
  #pending: Record<string, number> = {};

  constructor(options: TestParserOptions = {}) {
    this.#tally = new TestTally(options);
  }

  line(raw: string): void {
    const text = stripAnsi(raw).trimEnd();
    const r = RESULT.exec(text);
    if (r) {
      const word = r[1]!;
      this.#tally.add(OUTCOMES[word]!, r[2]!);
      this.#pending[word] = (this.#pending[word] ?? 0) + 1;
      return;
    }
    const s = SUMMARY.exec(text);
    if (s) {
      const word = s[1]!;
      if (word === 'TOTAL') this.#pending = {};
      else this.#blocks[word] = (this.#blocks[word] ?? 0) + Number(s[2]);
    }
  }

  summary(): TestSummary {
    const b: Record<string, number> = { ...this.#blocks };
    for (const [word, n] of Object.entries(this.#pending)) b[word] = (b[word] ?? 0) + n;
    return this.#tally.summary({
      passed: b.PASS ?? 0,
      failed: (b.FAIL ?? 0) + (b.XPASS ?? 0) + (b.ERROR ?? 0),
      skipped: b.SKIP ?? 0,
      todo: b.XFAIL ?? 0,
    });
  }
}
