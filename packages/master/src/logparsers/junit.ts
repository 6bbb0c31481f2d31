// JUnit XML (pytest --junitxml, Maven Surefire, Gradle, jest-junit…), read as a stream:
// only the tag being scanned is buffered, text between tags is dropped, so a report of any
// size is read in bounded memory. Each <testcase> counts once: passed unless it holds
// <failure>/<error> (failed) or <skipped> (skipped; pytest's xfail marks it todo).
import {
  type Outcome,
  type TestParserOptions,
  type TestResultParser,
  type TestSummary,
  TestTally,
} from './summary.js';

export class JUnitXmlError extends Error {
  override readonly name = 'JUnitXmlError';
}

const MAX_TAG = 1024 * 1024;

// Markup whose content may contain '<' or '>' and must be skipped whole.
const SKIPPED_MARKUP: readonly [string, string][] = [
  ['<!--', '-->'],
  ['<![CDATA[', ']]>'],
  ['<?', '?>'],
  ['<!', '>'],
];

export class JUnitXmlParser implements TestResultParser {
  readonly #tally: TestTally;
  #buffer = '';
  #case: { name: string; outcome: Outcome } | undefined;

  constructor(options: TestParserOptions = {}) {
    this.#tally = new TestTally(options);
  }

  /** Lines of a report as a log shows them. */
  line(text: string): void {
    this.write(`${text}\n`);
  }

  /** Any piece of the document. */
  write(chunk: string): void {
    this.#buffer += chunk;
    let pos = 0;
    for (;;) {
      const lt = this.#buffer.indexOf('<', pos);
      if (lt < 0) {
        pos = this.#buffer.length;
        break;
      }
      const end = this.#markupEnd(lt);
      if (end < 0) {
        pos = lt;
        break;
      }
      pos = end;
    }
    this.#buffer = this.#buffer.slice(pos);
    if (this.#buffer.length > MAX_TAG) throw new JUnitXmlError(`a tag longer than ${MAX_TAG} characters`);
  }

  /** Handles the markup starting at `lt`; returns the index after it, or -1 if incomplete. */
  #markupEnd(lt: number): number {
    const b = this.#buffer;
    for (const [open, close] of SKIPPED_MARKUP) {
      if (b.startsWith(open, lt)) {
        const e = b.indexOf(close, lt + open.length);
        return e < 0 ? -1 : e + close.length;
      }
      // Not yet enough text to tell which markup this is.
      if (open.startsWith(b.slice(lt, lt + open.length)) && b.length - lt < open.length) return -1;
    }
    let quote = '';
    for (let i = lt + 1; i < b.length; i++) {
      const c = b[i]!;
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>') {
        this.#tag(b.slice(lt + 1, i));
        return i + 1;
      }
    }
    return -1;
  }

  #tag(inner: string): void {
    const closing = inner.startsWith('/');
    const selfClosing = inner.endsWith('/');
    const body = inner.slice(closing ? 1 : 0, selfClosing ? -1 : undefined).trim();
    const nameEnd = body.search(/[\s/]|$/);
    const element = body.slice(0, nameEnd);
    if (closing) {
      if (element === 'testcase') this.#endCase();
      return;
    }
    if (element === 'testcase') {
      if (this.#case) this.#endCase();
      const attrs = parseAttributes(body.slice(nameEnd));
      const cls = attrs.classname ?? '';
      const name = attrs.name ?? '(unnamed)';
      this.#case = { name: cls ? `${cls}.${name}` : name, outcome: 'pass' };
      if (selfClosing) this.#endCase();
      return;
    }
    const c = this.#case;
    if (!c) return;
    if (element === 'failure' || element === 'error') c.outcome = 'fail';
    else if (element === 'skipped' && c.outcome !== 'fail') {
      c.outcome = parseAttributes(body.slice(nameEnd)).type === 'pytest.xfail' ? 'todo' : 'skip';
    }
  }

  #endCase(): void {
    if (!this.#case) return;
    this.#tally.add(this.#case.outcome, this.#case.name);
    this.#case = undefined;
  }

  summary(): TestSummary {
    return this.#tally.summary();
  }
}

const ATTRIBUTE = /([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function parseAttributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(ATTRIBUTE)) out[m[1]!] = decodeEntities(m[2] ?? m[3] ?? '');
  return out;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return NAMED[e] ?? whole;
  });
}
