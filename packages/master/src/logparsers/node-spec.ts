// node:test's default "spec" reporter. Results are `✔ name (1.2ms)` / `✖ name (…)` /
// `﹣ name (…) # SKIP`, nested by two spaces; a suite or a test with subtests prints its own
// result line after its children, so, as in TAP, only leaves are counted. The closing
// `ℹ tests N` … totals win when present. After the `✖ failing tests:` header the
// reporter repeats the failures with details, which must not be counted twice.
import { stripAnsi } from './lines.js';
import {
  NodeTestTotals,
  type TestParserOptions,
  type TestResultParser,
  type TestSummary,
  TestTally,
} from './summary.js';

const RESULT = /^(✔|✖|﹣|⚠)\s+(.*?)(?:\s+\([\d.]+m?s\))?(\s+#\s*(.*))?$/u;
const SUITE_START = /^▶\s+(.*)$/u;
const TOTAL = /^ℹ\s+(tests|pass|fail|cancelled|skipped|todo)\s+(\d+)\s*$/u;

interface Level {
  name: string | undefined;
  childSeen: boolean;
  childFailed: boolean;
}

export class NodeSpecParser implements TestResultParser {
  readonly #tally: TestTally;
  readonly #levels: Level[] = [];
  readonly #totals = new NodeTestTotals();
  #inFailureDetails = false;

  constructor(options: TestParserOptions = {}) {
    this.#tally = new TestTally(options);
  }

  line(raw: string): void {
    if (this.#inFailureDetails) return;
    const text = stripAnsi(raw);
    const body = text.trim();
    if (body === '✖ failing tests:') {
      this.#inFailureDetails = true;
      return;
    }
    const total = TOTAL.exec(body);
    if (total) {
      this.#totals.set(total[1]!, Number(total[2]));
      return;
    }
    const depth = Math.floor((text.length - text.trimStart().length) / 2);
    const suite = SUITE_START.exec(body);
    if (suite) {
      this.#level(depth).name = suite[1]!;
      return;
    }
    const r = RESULT.exec(body);
    if (r) this.#result(depth, r[1]!, r[2]!, r[4]);
  }

  #level(depth: number): Level {
    for (let d = this.#levels.length; d <= depth; d++)
      this.#levels.push({ name: undefined, childSeen: false, childFailed: false });
    return this.#levels[depth]!;
  }

  #result(depth: number, mark: string, name: string, directive: string | undefined): void {
    const own = this.#level(depth);
    const child = this.#levels[depth + 1];
    const isParent = child?.childSeen ?? false;
    const childFailed = child?.childFailed ?? false;
    this.#levels.length = depth + 1;
    const parents = this.#levels
      .slice(0, depth)
      .map((l) => l.name)
      .filter((n): n is string => n !== undefined);
    own.name = undefined;
    own.childSeen = true;
    let outcome: 'pass' | 'fail' | 'skip' | 'todo' = mark === '✔' ? 'pass' : mark === '﹣' ? 'skip' : 'fail';
    if (directive && /^todo\b/i.test(directive)) outcome = 'todo';
    else if (directive && /^skip\b/i.test(directive)) outcome = 'skip';
    if (outcome === 'fail') own.childFailed = true;
    if (isParent && !(outcome === 'fail' && !childFailed)) return;
    this.#tally.add(outcome, [...parents, name].join(' > '));
  }

  summary(): TestSummary {
    return this.#totals.summary(this.#tally);
  }
}
