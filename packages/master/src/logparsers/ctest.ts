// CTest's output: one line per test, `1/3 Test #1: name ........   Passed    0.01 sec` or
// `***Failed`, `***Skipped`, `***Not Run (Disabled)`, `***Timeout`, `***Exception: …`; then
// `67% tests passed, 1 tests failed out of 3` and the list of failed tests. Passed is a
// pass; Skipped and Disabled are skips; anything else with `***` fails (a missing
// executable is `***Not Run`, which CTest counts as failed). The summary line wins over
// counting lines for failures; its total leaves disabled tests out.
import { stripAnsi } from './lines.js';
import { type TestParserOptions, type TestResultParser, type TestSummary, TestTally } from './summary.js';

const RESULT = /^\s*\d+\/\d+ Test\s+#\d+: (.+?) \.+\s*(\*\*\*)?(\S.*?)\s+[\d.]+ sec$/;
const SUMMARY = /^\d+% tests passed, (\d+) tests? failed out of (\d+)$/;
const FAILED_LIST = /^The following tests FAILED:$/;
const FAILED_ENTRY = /^\s+\d+ - (.+) \([^)]*\)$/;

export class CTestParser implements TestResultParser {
  readonly #tally: TestTally;
  /** Skipped tests CTest counts in its total (disabled ones it leaves out). */
  #skippedInTotal = 0;
  #totals: { failed: number; total: number } | undefined;
  #inFailedList = false;

  constructor(options: TestParserOptions = {}) {
    this.#tally = new TestTally(options);
  }

  line(raw: string): void {
    const text = stripAnsi(raw).trimEnd();
    if (this.#inFailedList) {
      const f = FAILED_ENTRY.exec(text);
      if (f) {
        this.#tally.addFailedName(f[1]!);
        return;
      }
      this.#inFailedList = false;
    }
    const r = RESULT.exec(text);
    if (r) {
      const [, name, marked, status] = r;
      if (!marked && status === 'Passed') this.#tally.add('pass', name!);
      else if (status === 'Skipped') {
        this.#tally.add('skip', name!);
        this.#skippedInTotal++;
      } else if (status === 'Not Run (Disabled)') this.#tally.add('skip', name!);
      else this.#tally.add('fail', name!);
      return;
    }
    const s = SUMMARY.exec(text);
    if (s) this.#totals = { failed: Number(s[1]), total: Number(s[2]) };
    else if (FAILED_LIST.test(text)) this.#inFailedList = true;
  }

  summary(): TestSummary {
    const t = this.#totals;
    if (!t) return this.#tally.summary();
    return this.#tally.summary({
      failed: t.failed,
      passed: Math.max(0, t.total - t.failed - this.#skippedInTotal),
    });
  }
}
