// Regular expressions given as text in a configuration mean what they mean in Buildbot,
// which compiles them with Python's `re`: case-sensitive unless they say `(?i)`, `.` stops
// only at "\n", `$` also matches before a final newline, `\d`, `\w`, `\s` and `\b` know
// every script. JavaScript reads the same text differently (or not at all: `(?i)`,
// `(?P<name>…)`, `\Z`), so the text is translated into an equivalent JavaScript RegExp (in
// `v` mode); what has no equivalent is refused with the position and the reason, never
// silently read another way. README.md ("Regular expressions") lists what is accepted.

/** A pattern Python's `re` would refuse, or one with no JavaScript equivalent. */
export class PythonRegExpError extends Error {
  override readonly name = 'PythonRegExpError';
  constructor(
    readonly pattern: string,
    readonly position: number,
    readonly reason: string,
  ) {
    super(`regular expression ${JSON.stringify(pattern)}: ${reason} at position ${position}`);
  }
}

interface Flags {
  readonly ignoreCase: boolean;
  readonly multiline: boolean;
  readonly dotAll: boolean;
  readonly verbose: boolean;
  readonly ascii: boolean;
}

// Python's str-pattern classes (sre's Unicode category tests): \d is a decimal digit
// (Nd), \w a letter, a number or "_", \s the characters str.isspace() accepts.
const UNICODE_DIGIT = String.raw`\p{Nd}`;
const UNICODE_WORD = String.raw`\p{L}\p{N}_`;
const UNICODE_SPACE = String.raw`\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;
// Under (?a): ASCII only.
const ASCII_DIGIT = '0-9';
const ASCII_WORD = 'A-Za-z0-9_';
const ASCII_SPACE = String.raw`\t-\r\x20`;

const VERBOSE_SPACE = new Set([' ', '\t', '\n', '\r', '\v', '\f']);
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
const FLAG_LETTERS = 'aiLmsux';

type Category = 'd' | 'D' | 'w' | 'W' | 's' | 'S';

/** What an escape stands for: a character, a class, an assertion or a back-reference. */
type Escape =
  | { kind: 'char'; code: number }
  | { kind: 'category'; letter: Category }
  | { kind: 'assertion'; letter: 'A' | 'Z' | 'b' | 'B' }
  | { kind: 'backref'; group: number };

/** What the last item emitted was, for Python's "nothing to repeat" and "multiple repeat". */
type Last = 'none' | 'atom' | 'assertion' | 'lookaround' | 'quantifier';

/**
 * Compiles `pattern` with Python `re` semantics (as Buildbot's `re.compile(pattern)`).
 * Throws PythonRegExpError for what Python refuses or JavaScript cannot express.
 */
export function pythonRegExp(pattern: string): RegExp {
  const { source, ignoreCase } = new Translator(pattern).translate();
  try {
    return new RegExp(source, ignoreCase ? 'iv' : 'v');
  } catch (err) {
    // The translation is valid JavaScript for everything it accepts; what is left are
    // features this Node.js lacks (scoped (?i:…) needs RegExp modifiers, Node 23+).
    throw new PythonRegExpError(
      pattern,
      0,
      `not supported by this Node.js (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

class Translator {
  readonly #p: string;
  #i = 0;
  #flags: Flags = { ignoreCase: false, multiline: false, dotAll: false, verbose: false, ascii: false };
  #globalIgnoreCase = false;
  readonly #closedGroups = new Set<number>();
  readonly #openGroups: number[] = [];
  readonly #groupNames = new Map<string, number>();
  #groupCount = 0;

  constructor(pattern: string) {
    this.#p = pattern;
  }

  translate(): { source: string; ignoreCase: boolean } {
    this.#globalFlags();
    const source = this.#alternation(0);
    if (this.#i < this.#p.length) this.#fail('unbalanced parenthesis');
    return { source, ignoreCase: this.#globalIgnoreCase };
  }

  #fail(reason: string, at = this.#i): never {
    throw new PythonRegExpError(this.#p, at, reason);
  }

  /** Leading `(?imsx…)` groups: Python applies them to the whole pattern. */
  #globalFlags(): void {
    const GLOBAL = /^\(\?([aiLmsux]+)\)/;
    for (let m = GLOBAL.exec(this.#p.slice(this.#i)); m; m = GLOBAL.exec(this.#p.slice(this.#i))) {
      this.#flags = this.#withFlags(this.#flags, m[1]!, '', this.#i + 2);
      this.#i += m[0].length;
    }
    this.#globalIgnoreCase = this.#flags.ignoreCase;
  }

  #withFlags(base: Flags, on: string, off: string, at: number): Flags {
    for (const f of on + off) {
      if (!FLAG_LETTERS.includes(f)) this.#fail(`unknown flag ${f}`, at);
    }
    if (on.includes('L')) this.#fail('the LOCALE flag (?L) is for bytes patterns only', at);
    if (off && /[aLu]/.test(off)) this.#fail('the flags a, L and u cannot be turned off', at);
    if (on.includes('a') && on.includes('u')) this.#fail('the ASCII and UNICODE flags are incompatible', at);
    const flags: Flags = {
      ignoreCase: on.includes('i') || (base.ignoreCase && !off.includes('i')),
      multiline: on.includes('m') || (base.multiline && !off.includes('m')),
      dotAll: on.includes('s') || (base.dotAll && !off.includes('s')),
      verbose: on.includes('x') || (base.verbose && !off.includes('x')),
      ascii: on.includes('a') || (base.ascii && !on.includes('u')),
    };
    // JavaScript folds case by Unicode rules; Python under (?a) folds ASCII letters only.
    if (flags.ascii && flags.ignoreCase)
      this.#fail('(?a) together with (?i) is not supported (JavaScript folds non-ASCII letters too)', at);
    return flags;
  }

  #alternation(depth: number): string {
    const branches = [this.#sequence(depth)];
    while (this.#p[this.#i] === '|') {
      this.#i++;
      branches.push(this.#sequence(depth));
    }
    return branches.join('|');
  }

  #sequence(depth: number): string {
    let out = '';
    let last: Last = 'none';
    for (;;) {
      this.#skipVerbose();
      const c = this.#p[this.#i];
      if (c === undefined || c === '|' || (c === ')' && depth > 0)) return out;
      if (c === ')') this.#fail('unbalanced parenthesis');
      if (c === '*' || c === '+' || c === '?' || (c === '{' && this.#repeatBounds() !== null)) {
        if (last === 'none' || last === 'assertion') this.#fail('nothing to repeat');
        if (last === 'quantifier') this.#fail('multiple repeat');
        if (last === 'lookaround') this.#fail('a repeated look-around has no JavaScript equivalent');
        out += this.#quantifier();
        last = 'quantifier';
        continue;
      }
      this.#i++;
      if (c === '(') {
        const group = this.#group(depth);
        // An inline comment is nothing: what came before it is still the last item.
        if (group.source === '') continue;
        out += group.source;
        last = group.lookaround ? 'lookaround' : 'atom';
        continue;
      }
      if (c === '[') {
        out += this.#charClass();
        last = 'atom';
      } else if (c === '.') {
        out += this.#flags.dotAll ? String.raw`[\s\S]` : String.raw`[^\n]`;
        last = 'atom';
      } else if (c === '^') {
        out += this.#flags.multiline ? String.raw`(?<![^\n])` : String.raw`(?<![\s\S])`;
        last = 'assertion';
      } else if (c === '$') {
        out += this.#flags.multiline ? String.raw`(?=\n|(?![\s\S]))` : String.raw`(?=\n?(?![\s\S]))`;
        last = 'assertion';
      } else if (c === '\\') {
        const e = this.#escape(false);
        out += this.#escapeSource(e);
        last = e.kind === 'assertion' ? 'assertion' : 'atom';
      } else {
        out += literal(c.codePointAt(0)!);
        // A surrogate pair is one character.
        if (c.codePointAt(0)! > 0xffff) this.#i++;
        last = 'atom';
      }
    }
  }

  /** Python's verbose mode ignores whitespace and `#` comments outside classes. */
  #skipVerbose(): void {
    if (!this.#flags.verbose) return;
    for (;;) {
      const c = this.#p[this.#i];
      if (c !== undefined && VERBOSE_SPACE.has(c)) this.#i++;
      else if (c === '#') {
        while (this.#i < this.#p.length && this.#p[this.#i] !== '\n') this.#i++;
      } else return;
    }
  }

  /** `{m}`, `{m,}`, `{,n}`, `{m,n}` at the cursor, else null (Python then reads `{` literally). */
  #repeatBounds(): { min: number; max: number | null; length: number } | null {
    const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.#p.slice(this.#i));
    if (!m || (m[1] === '' && m[2] === '')) return null;
    if (m[2] === '' && m[3] !== '') return null;
    const min = m[1] === '' ? 0 : Number(m[1]);
    const max = m[2] === '' ? min : m[3] === '' ? null : Number(m[3]);
    return { min, max, length: m[0].length };
  }

  #quantifier(): string {
    const c = this.#p[this.#i]!;
    let q: string;
    if (c === '{') {
      const b = this.#repeatBounds()!;
      if (b.max !== null && b.max < b.min) this.#fail('min repeat greater than max repeat');
      q = b.max === b.min ? `{${b.min}}` : `{${b.min},${b.max ?? ''}}`;
      this.#i += b.length;
    } else {
      q = c;
      this.#i++;
    }
    this.#skipVerbose();
    if (this.#p[this.#i] === '?') {
      this.#i++;
      return `${q}?`;
    }
    if (this.#p[this.#i] === '+')
      this.#fail('possessive quantifiers (*+, ++, ?+) have no JavaScript equivalent');
    return q;
  }

  /** After `(`: the group's source; an inline comment gives ''. */
  #group(depth: number): { source: string; lookaround: boolean } {
    const at = this.#i - 1;
    if (this.#p[this.#i] !== '?') return { source: this.#capture(depth, null, at), lookaround: false };
    this.#i++;
    const rest = this.#p.slice(this.#i);
    if (rest.startsWith('P<')) {
      const m = /^P<([^>]*)>/.exec(rest);
      if (!m) this.#fail('missing >, unterminated name', at);
      const name = m[1]!;
      if (!/^[\p{L}_][\p{L}\p{N}_]*$/u.test(name))
        this.#fail(`bad character in group name ${JSON.stringify(name)}`, at);
      if (this.#groupNames.has(name)) this.#fail(`redefinition of group name ${JSON.stringify(name)}`, at);
      this.#i += m[0].length;
      return { source: this.#capture(depth, name, at), lookaround: false };
    }
    if (rest.startsWith('P=')) {
      const m = /^P=([^)]*)\)/.exec(rest);
      if (!m) this.#fail('missing ), unterminated name', at);
      const group = this.#groupNames.get(m[1]!);
      if (group === undefined) this.#fail(`unknown group name ${JSON.stringify(m[1])}`, at);
      if (!this.#closedGroups.has(group)) this.#fail('cannot refer to an open group', at);
      this.#i += m[0].length;
      return { source: `\\k<${m[1]}>`, lookaround: false };
    }
    if (rest.startsWith('#')) {
      const end = this.#p.indexOf(')', this.#i);
      if (end < 0) this.#fail('missing ), unterminated comment', at);
      this.#i = end + 1;
      return { source: '', lookaround: false };
    }
    for (const [open, js] of [
      [':', '(?:'],
      ['=', '(?='],
      ['!', '(?!'],
      ['<=', '(?<='],
      ['<!', '(?<!'],
    ] as const) {
      if (rest.startsWith(open)) {
        this.#i += open.length;
        return { source: this.#closeGroup(js, depth, this.#flags, at), lookaround: open !== ':' };
      }
    }
    if (rest.startsWith('(')) this.#fail('conditional groups (?(…)…|…) have no JavaScript equivalent', at);
    if (rest.startsWith('>')) this.#fail('atomic groups (?>…) have no JavaScript equivalent', at);
    if (rest.startsWith('<')) this.#fail("Python's re writes a named group (?P<name>…)", at);
    const m = /^([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
    if (!m) this.#fail(`unknown extension ?${rest[0] ?? ''}`, at);
    const [, on = '', off, end] = m;
    this.#i += m[0].length;
    if (end === ')') {
      if (off !== undefined) this.#fail('missing :', at);
      this.#fail('global flags not at the start of the expression', at);
    }
    if (off === '') this.#fail('missing flag', at);
    const flags = this.#withFlags(this.#flags, on, off ?? '', at + 2);
    // i is JavaScript's to apply (a RegExp modifier); the others are translated here.
    let js = '(?:';
    if (flags.ignoreCase !== this.#flags.ignoreCase) js = flags.ignoreCase ? '(?i:' : '(?-i:';
    return { source: this.#closeGroup(js, depth, flags, at), lookaround: false };
  }

  #capture(depth: number, name: string | null, at: number): string {
    const group = ++this.#groupCount;
    if (name !== null) this.#groupNames.set(name, group);
    this.#openGroups.push(group);
    const source = this.#closeGroup(name === null ? '(' : `(?<${name}>`, depth, this.#flags, at);
    this.#openGroups.pop();
    this.#closedGroups.add(group);
    return source;
  }

  /** The group's body up to its `)`, read under `flags`, which end with it. */
  #closeGroup(open: string, depth: number, flags: Flags, at: number): string {
    const outer = this.#flags;
    this.#flags = flags;
    const body = this.#alternation(depth + 1);
    this.#flags = outer;
    if (this.#p[this.#i] !== ')') this.#fail('missing ), unterminated subpattern', at);
    this.#i++;
    return `${open}${body})`;
  }

  /** After `\`: what the escape means (Python's rules, sre_parse's `_escape`/`_class_escape`). */
  #escape(inClass: boolean): Escape {
    const at = this.#i - 1;
    const c = this.#p[this.#i];
    if (c === undefined) this.#fail('bad escape (end of pattern)', at);
    this.#i++;
    if ('dDwWsS'.includes(c)) return { kind: 'category', letter: c as Category };
    if (c === 'b' && inClass) return { kind: 'char', code: 8 };
    if ('AZbB'.includes(c)) {
      if (inClass) this.#fail(`bad escape \\${c}`, at);
      return { kind: 'assertion', letter: c as 'A' | 'Z' | 'b' | 'B' };
    }
    if (c in SIMPLE_ESCAPES) return { kind: 'char', code: SIMPLE_ESCAPES[c]! };
    const hex = { x: 2, u: 4, U: 8 }[c];
    if (hex !== undefined) {
      const digits = this.#p.slice(this.#i, this.#i + hex);
      if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits))
        this.#fail(`incomplete escape \\${c}${digits}`, at);
      this.#i += hex;
      const code = Number.parseInt(digits, 16);
      if (code > 0x10ffff) this.#fail(`bad escape \\${c}${digits}`, at);
      return { kind: 'char', code };
    }
    if (c === 'N') this.#fail('named characters \\N{…} are not supported', at);
    if (c >= '0' && c <= '9') return this.#numericEscape(c, inClass, at);
    if (/[a-zA-Z]/.test(c)) this.#fail(`bad escape \\${c}`, at);
    return { kind: 'char', code: this.#p.codePointAt(this.#i - 1)! };
  }

  /** `\0`, `\012`, `\377`: octal; `\1`…`\99` outside classes: a group reference. */
  #numericEscape(first: string, inClass: boolean, at: number): Escape {
    const octal = /^[0-7]{1,2}/.exec(this.#p.slice(this.#i));
    if (first === '0') {
      this.#i += octal ? octal[0].length : 0;
      return { kind: 'char', code: Number.parseInt(`0${octal?.[0] ?? ''}`, 8) };
    }
    if (first <= '7' && octal?.[0].length === 2) {
      this.#i += 2;
      const code = Number.parseInt(first + octal[0], 8);
      if (code > 0o377) this.#fail(`octal escape value \\${first}${octal[0]} outside of range 0-0o377`, at);
      return { kind: 'char', code };
    }
    if (inClass) this.#fail(`bad escape \\${first}`, at);
    let digits = first;
    if (/[0-9]/.test(this.#p[this.#i] ?? '')) digits += this.#p[this.#i++];
    const group = Number(digits);
    if (this.#openGroups.includes(group)) this.#fail('cannot refer to an open group', at);
    if (!this.#closedGroups.has(group)) this.#fail(`invalid group reference ${group}`, at);
    return { kind: 'backref', group };
  }

  #escapeSource(e: Escape): string {
    switch (e.kind) {
      case 'char':
        return literal(e.code);
      case 'category':
        return this.#category(e.letter);
      case 'backref':
        // Grouped: a following digit must not join the number, a quantifier must apply to it.
        return `(?:\\${e.group})`;
      case 'assertion': {
        const word = `[${this.#flags.ascii ? ASCII_WORD : UNICODE_WORD}]`;
        if (e.letter === 'A') return String.raw`(?<![\s\S])`;
        if (e.letter === 'Z') return String.raw`(?![\s\S])`;
        // JavaScript's own \b knows ASCII word characters only.
        return e.letter === 'b'
          ? `(?:(?<=${word})(?!${word})|(?<!${word})(?=${word}))`
          : `(?:(?<=${word})(?=${word})|(?<!${word})(?!${word}))`;
      }
    }
  }

  /** A class escape as a nested v-mode class: valid inside a class and outside one. */
  #category(letter: Category): string {
    const a = this.#flags.ascii;
    const kind = letter.toLowerCase() as 'd' | 'w' | 's';
    const set = {
      d: a ? ASCII_DIGIT : UNICODE_DIGIT,
      w: a ? ASCII_WORD : UNICODE_WORD,
      s: a ? ASCII_SPACE : UNICODE_SPACE,
    }[kind];
    return `[${letter === kind ? '' : '^'}${set}]`;
  }

  /** After `[`: a class in Python's syntax, emitted with every punctuation character escaped. */
  #charClass(): string {
    const at = this.#i - 1;
    let out = '[';
    if (this.#p[this.#i] === '^') {
      out += '^';
      this.#i++;
    }
    let first = true;
    for (;;) {
      const c = this.#p[this.#i];
      if (c === undefined) this.#fail('unterminated character set', at);
      if (c === ']' && !first) {
        this.#i++;
        return `${out}]`;
      }
      first = false;
      const lo = this.#classAtom();
      if (this.#p[this.#i] === '-' && this.#p[this.#i + 1] !== undefined && this.#p[this.#i + 1] !== ']') {
        const dash = this.#i;
        this.#i++;
        const hi = this.#classAtom();
        if (typeof lo !== 'number' || typeof hi !== 'number') this.#fail('bad character range', dash);
        if (hi < lo) this.#fail('bad character range', dash);
        out += `${literal(lo)}-${literal(hi)}`;
      } else out += typeof lo === 'number' ? literal(lo) : lo;
    }
  }

  /** One class member: a code point, or a category's source. */
  #classAtom(): number | string {
    const c = this.#p[this.#i]!;
    this.#i++;
    if (c !== '\\') {
      const code = this.#p.codePointAt(this.#i - 1)!;
      if (code > 0xffff) this.#i++;
      return code;
    }
    const e = this.#escape(true);
    if (e.kind === 'category') return this.#category(e.letter);
    if (e.kind === 'char') return e.code;
    this.#fail('bad escape in a character set', this.#i - 2);
  }
}

/** A code point as v-mode source, valid inside and outside classes. */
function literal(code: number): string {
  if (/[A-Za-z0-9_]/.test(String.fromCodePoint(code))) return String.fromCodePoint(code);
  return `\\u{${code.toString(16)}}`;
}
