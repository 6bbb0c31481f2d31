// `go test -v` text output and `go test -json` events.
import { GoTestTree } from './go-tree.js';
import { stripAnsi } from './lines.js';
import {
  type Outcome,
  type TestParserOptions,
  type TestResultParser,
  type TestSummary,
  TestTally,
} from './summary.js';

const RUN = /^=== RUN\s+(\S+)/;
const RESULT = /^\s*--- (PASS|FAIL|SKIP): (\S+) \(/;
// `ok  	pkg	0.01s`, `FAIL	pkg	0.01s`, `FAIL	pkg [build failed]`, `?   	pkg	[no test files]`
const PACKAGE = /^(ok|FAIL|\?)\s+(\S+)(?:\s|$)/;
const OUTCOMES: Record<string, Outcome> = { PASS: 'pass', FAIL: 'fail', SKIP: 'skip' };

export class GoTestParser implements TestResultParser {
  readonly #tally: TestTally;
  readonly #tree: GoTestTree;

  constructor(options: TestParserOptions = {}) {
    this.#tally = new TestTally(options);
    this.#tree = new GoTestTree(this.#tally);
  }

  line(raw: string): void {
    const text = stripAnsi(raw).trimEnd();
    const run = RUN.exec(text);
    if (run) {
      this.#tree.run(run[1]!);
      return;
    }
    const r = RESULT.exec(text);
    if (r) {
      this.#tree.result(r[2]!, OUTCOMES[r[1]!]!);
      return;
    }
    const p = PACKAGE.exec(text);
    // Package lines are tab-separated, which tells them from a test's own output.
    if (p && text.includes('\t')) {
      this.#tree.packageDone(p[2]!, p[1] === 'FAIL');
    }
  }

  summary(): TestSummary {
    return this.#tally.summary();
  }
}

interface GoTestEvent {
  Action?: string;
  Package?: string;
  Test?: string;
}

export class GoTestJsonParser implements TestResultParser {
  readonly #tally: TestTally;
  readonly #tree: GoTestTree;
  /** Lines that were not JSON events (build errors go to stderr in the same log). */
  otherLines = 0;

  constructor(options: TestParserOptions = {}) {
    this.#tally = new TestTally(options);
    this.#tree = new GoTestTree(this.#tally);
  }

  line(raw: string): void {
    const text = raw.trim();
    if (!text.startsWith('{')) {
      this.otherLines++;
      return;
    }
    let e: GoTestEvent;
    try {
      e = JSON.parse(text) as GoTestEvent;
    } catch {
      this.otherLines++;
      return;
    }
    const action = e.Action;
    if (!action) return;
    if (e.Test === undefined) {
      if (action === 'pass' || action === 'fail')
        this.#tree.packageDone(e.Package ?? '(package)', action === 'fail');
      return;
    }
    if (action === 'run') this.#tree.run(e.Test);
    else if (action === 'pass' || action === 'fail' || action === 'skip') {
      this.#tree.result(e.Test, action === 'pass' ? 'pass' : action === 'fail' ? 'fail' : 'skip');
    }
  }

  summary(): TestSummary {
    return this.#tally.summary();
  }
}
