// TAP (versions 12–14, as Perl's Test::More, node:test's TAP reporter and others write it).
// Subtests are indented by four spaces and end with their parent's test point, so a test
// point is a parent exactly when deeper test points came since the last one at its depth;
// only leaves are counted, and a failing parent only when none of its children failed
// (a failing hook). node:test also prints its own totals as `# tests N` comments; when
// present they win, so the figures match what the developer sees.
import { stripAnsi } from './lines.js';
import {
  NodeTestTotals,
  type TestParserOptions,
  type TestResultParser,
  type TestSummary,
  TestTally,
} from './summary.js';

const TEST_POINT = /^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$/;
const DIRECTIVE = /(?:^|\s)#\s*(skip|todo)\b\s*(.*)$/i;
const SUBTEST = /^#\s*Subtest:\s*(.*)$/;
const NODE_TOTAL = /^#\s*(tests|pass|fail|cancelled|skipped|todo)\s+(\d+)\s*$/;

interface Level {
  name: string | undefined;
  childSeen: boolean;
  childFailed: boolean;
}

export class TapParser implements TestResultParser {
  readonly #tally: TestTally;
  readonly #levels: Level[] = [];
  /** Indentation of the YAML block being skipped, if any. */
  #yamlIndent: number | undefined;
  readonly #totals = new NodeTestTotals();
  bailedOut = false;
  plan: number | undefined;

  constructor(options: TestParserOptions = {}) {
    this.#tally = new TestTally(options);
  }

  line(raw: string): void {
    const text = stripAnsi(raw);
    const indent = text.length - text.trimStart().length;
    const body = text.trim();
    if (this.#yamlIndent !== undefined) {
      if (indent === this.#yamlIndent && body === '...') this.#yamlIndent = undefined;
      return;
    }
    const depth = Math.floor(indent / 4);
    if (body === '---' && indent % 4 === 2) {
      this.#yamlIndent = indent;
      return;
    }
    const sub = SUBTEST.exec(body);
    if (sub) {
      this.#level(depth).name = sub[1]!.trim();
      return;
    }
    const tp = TEST_POINT.exec(body);
    if (tp) {
      this.#testPoint(depth, tp[1] === 'ok', tp[3] ?? '');
      return;
    }
    if (depth === 0) {
      const total = NODE_TOTAL.exec(body);
      if (total) this.#totals.set(total[1]!, Number(total[2]));
      else if (/^1\.\.\d+/.test(body)) this.plan = Number(body.slice(3).split(/\s/)[0]);
      else if (body.startsWith('Bail out!')) this.bailedOut = true;
    }
  }

  #level(depth: number): Level {
    for (let d = this.#levels.length; d <= depth; d++)
      this.#levels.push({ name: undefined, childSeen: false, childFailed: false });
    return this.#levels[depth]!;
  }

  #testPoint(depth: number, ok: boolean, rest: string): void {
    const directive = DIRECTIVE.exec(rest);
    const description = (directive ? rest.slice(0, directive.index) : rest).trim();
    const own = this.#level(depth);
    const child = this.#levels[depth + 1];
    const isParent = child?.childSeen ?? false;
    const childFailed = child?.childFailed ?? false;
    this.#levels.length = depth + 1;
    const name = this.#path(depth, description || own.name || '(unnamed)');
    own.name = undefined;
    own.childSeen = true;
    let outcome: 'pass' | 'fail' | 'skip' | 'todo' = ok ? 'pass' : 'fail';
    if (directive) outcome = directive[1]!.toLowerCase() === 'skip' ? 'skip' : 'todo';
    if (outcome === 'fail') own.childFailed = true;
    if (isParent && !(outcome === 'fail' && !childFailed)) return;
    this.#tally.add(outcome, name);
  }

  #path(depth: number, leaf: string): string {
    const parents: string[] = [];
    for (let d = 0; d < depth; d++) {
      const n = this.#levels[d]?.name;
      if (n) parents.push(n);
    }
    return [...parents, leaf].join(' > ');
  }

  summary(): TestSummary {
    return this.#totals.summary(this.#tally);
  }
}
