// pytest's terminal output. The final `=== 2 failed, 3 passed … in 0.06s ===` line carries
// the counts; failing test ids come from `-v` result lines (`path::test FAILED`) and from
// the `-rA`/`-rf` short summary (`FAILED path::test - message`). Without a final line (the
// run was killed) the counts fall back to what the `-v` or short-summary lines showed.
import { stripAnsi } from './lines.js';
import {
  type Outcome,
  type TestParserOptions,
  type TestResultParser,
  type TestSummary,
  TestTally,
} from './summary.js';

// Decorated with '=' normally, bare with -q: `2 failed, 3 passed in 0.04s`.
const FINAL = /^(?:=+ )?((?:no tests ran|\d+ \w+)(?:, \d+ \w+)* in [\d.]+s\b.*?)(?: =+)?$/;
const COUNT = /(\d+) (passed|failed|skipped|xfailed|xpassed|errors?|deselected|warnings?|rerun)\b/g;
const VERBOSE = /^(\S+::\S.*?) (PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR)\b/;
const SHORT = /^(PASSED|FAILED|ERROR|XFAIL|XPASS|SKIPPED) (\S+)/;

const OUTCOMES: Record<string, Outcome> = {
  PASSED: 'pass',
  XPASS: 'pass',
  FAILED: 'fail',
  ERROR: 'fail',
  SKIPPED: 'skip',
  XFAIL: 'todo',
};

export class PytestParser implements TestResultParser {
  readonly #verbose: TestTally;
  readonly #short: TestTally;
  #final: Record<string, number> | undefined;

  constructor(options: TestParserOptions = {}) {
    this.#verbose = new TestTally(options);
    this.#short = new TestTally(options);
  }

  line(raw: string): void {
    const text = stripAnsi(raw).trimEnd();
    const v = VERBOSE.exec(text);
    if (v) {
      this.#verbose.add(OUTCOMES[v[2]!]!, v[1]!);
      return;
    }
    const s = SHORT.exec(text);
    if (s) {
      // `SKIPPED [1] file:line: reason` names no test id; it still counts as one skip.
      this.#short.add(OUTCOMES[s[1]!]!, s[2]!);
      return;
    }
    const f = FINAL.exec(text);
    if (f) {
      const counts: Record<string, number> = {};
      for (const m of f[1]!.matchAll(COUNT)) {
        const kind = m[2]!;
        counts[kind === 'errors' ? 'error' : kind === 'warnings' ? 'warning' : kind] = Number(m[1]);
      }
      this.#final = counts;
    }
  }

  summary(): TestSummary {
    // The short summary lists every outcome with -rA; -v lists each test once. Prefer the
    // richer one for names, and the final line for counts.
    const names = this.#short.failed >= this.#verbose.failed ? this.#short : this.#verbose;
    const c = this.#final;
    if (!c)
      return (
        this.#short.summary().total >= this.#verbose.summary().total ? this.#short : this.#verbose
      ).summary();
    return names.summary({
      passed: (c.passed ?? 0) + (c.xpassed ?? 0),
      failed: (c.failed ?? 0) + (c.error ?? 0),
      skipped: c.skipped ?? 0,
      todo: c.xfailed ?? 0,
    });
  }
}
