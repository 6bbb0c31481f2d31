// `cargo test`: each test binary (unit tests, each integration test, doc-tests) prints
// `test path::name ... ok|FAILED|ignored` lines and its own `test result: ok. 2 passed;
// 0 failed; 1 ignored; 0 measured; 0 filtered out; …`. The binaries' results are summed;
// a binary cut off before its result line counts by its test lines. A crate that does not
// compile fails with no test to blame: the crate counts as one failure, named.
import { stripAnsi } from './lines.js';
import { type TestParserOptions, type TestResultParser, type TestSummary, TestTally } from './summary.js';

const RESULT = /^test (.+?)(?: - should panic(?: with '.*')?)? \.\.\. (ok|FAILED|ignored)\b/;
const BINARY_RESULT =
  /^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored; (\d+) measured/;
const NOT_COMPILED = /^error: could not compile `([^`]+)`/;

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

export class CargoTestParser implements TestResultParser {
  readonly #tally: TestTally;
  /** Summed result lines of the binaries that finished. */
  readonly #finished: Counts = { passed: 0, failed: 0, skipped: 0 };
  /** Test lines of the binary running now. */
  #running: Counts = { passed: 0, failed: 0, skipped: 0 };
  /** Crates that did not compile (cargo says so for its lib and its lib test alike). */
  readonly #notCompiled = new Set<string>();

  constructor(options: TestParserOptions = {}) {
    this.#tally = new TestTally(options);
  }

  line(raw: string): void {
    const text = stripAnsi(raw).trimEnd();
    const r = RESULT.exec(text);
    if (r) {
      if (r[2] === 'ok') this.#running.passed++;
      else if (r[2] === 'ignored') this.#running.skipped++;
      else {
        this.#running.failed++;
        this.#tally.addFailedName(r[1]!);
      }
      return;
    }
    const b = BINARY_RESULT.exec(text);
    if (b) {
      // Benchmarks run as tests report as measured: they ran and passed.
      this.#finished.passed += Number(b[1]) + Number(b[4]);
      this.#finished.failed += Number(b[2]);
      this.#finished.skipped += Number(b[3]);
      this.#running = { passed: 0, failed: 0, skipped: 0 };
      return;
    }
    const c = NOT_COMPILED.exec(text);
    if (c && !this.#notCompiled.has(c[1]!)) {
      this.#notCompiled.add(c[1]!);
      this.#finished.failed++;
      this.#tally.addFailedName(c[1]!);
    }
  }

  summary(): TestSummary {
    return this.#tally.summary({
      passed: this.#finished.passed + this.#running.passed,
      failed: this.#finished.failed + this.#running.failed,
      skipped: this.#finished.skipped + this.#running.skipped,
      todo: 0,
    });
  }
}
