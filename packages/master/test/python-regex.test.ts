// Patterns given as text follow Python's `re` (as Buildbot compiles them): every case here is
// run through Debian's Python 3 and through pythonRegExp, and both must agree on whether the
// pattern compiles, where it matches and what its groups hold.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PythonRegExpError, pythonRegExp } from '../src/logparsers/python-regex.js';

const PYTHON = '/usr/bin/python3';

// For each pattern and subject: the span and groups of re.search, or "error".
const PY_SEARCH = `
import json, re, sys
out = []
for pattern, subjects in json.load(sys.stdin):
    try:
        r = re.compile(pattern)
    except re.error as e:
        out.append({'error': str(e)})
        continue
    res = []
    for s in subjects:
        m = r.search(s)
        res.append(None if m is None else [list(m.span()), list(m.groups())])
    out.append({'results': res})
print(json.dumps(out))
`;

// The code points each class matches and those Python's Unicode (14.0) leaves unassigned,
// as [first, last] ranges, from one search over every character but surrogates.
const PY_CLASSES = `
import json, re, sys, unicodedata
def ranges(cps):
    out = []
    for cp in cps:
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out
every = ''.join(chr(cp) for cp in range(0x110000) if not 0xd800 <= cp <= 0xdfff)
out = {'unassigned': ranges(ord(c) for c in every if unicodedata.category(c) == 'Cn')}
for name in json.load(sys.stdin):
    out[name] = ranges(ord(m.group()) for m in re.finditer(name, every))
print(json.dumps(out))
`;

function python(script: string, input: unknown): unknown {
  const r = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

type Found = [[number, number], (string | null)[]];
type PySearch = { error: string } | { results: (Found | null)[] };

function jsSearch(pattern: string, subjects: readonly string[]): PySearch {
  let re: RegExp;
  try {
    re = pythonRegExp(pattern);
  } catch (err) {
    if (err instanceof PythonRegExpError) return { error: err.reason };
    throw err;
  }
  return {
    results: subjects.map((s) => {
      const m = re.exec(s);
      return m === null ? null : [[m.index, m.index + m[0].length], m.slice(1).map((g) => g ?? null)];
    }),
  };
}

const SUBJECTS = [
  'src/main.c:12:5: warning: unused variable',
  'WARNING: loud',
  'Warning thing',
  'nothing here',
  'line one\nline two\n',
  'tail\n',
  'x\r\ny',
  'ärger über Größe',
  'naïve café ١٢٣ 四',
  'tab\there\u00a0nbsp\u2003em',
  'a{1}b aab ab a{,2}',
  'aaab ab',
  '[brackets] (parens) {braces} a-b a.b $5 ^up',
  '',
];

// Each pattern is checked for compiling the same way (both accept, or both refuse) and, when
// accepted, for the same match on every subject.
const PATTERNS = [
  // The warning patterns Buildbot users write.
  '(?i).*warning[: ].*',
  '.*warning[: ].*',
  '(.+?):(\\d+):\\d+: warning: (.*)',
  'WARNING',
  '(?i)warning',
  // Flags: global at the start, scoped, verbose.
  '(?m)^line \\w+$',
  '^line \\w+$',
  '(?s)one.line',
  'one.line',
  '(?x) line \\  one  # a comment\n',
  '(?ms)^tail$.',
  '(?i:warn)ING',
  'Warn(?-i:ing)',
  '(?i)Warn(?-i:ING)',
  '(?a)\\w+',
  '(?u)\\w+',
  // Anchors and boundaries.
  'tail$',
  'tail\\Z',
  '\\Atail',
  'x$',
  '\\bGröße\\b',
  '\\B\\w',
  '\\w+',
  '\\d+',
  '\\s+',
  '[\\w.]+',
  '[^\\W\\d]+',
  '[\\s\\S]{3}',
  '\\S+',
  '\\D+',
  '.',
  '\r',
  // Groups, references, quantifiers.
  '(?P<word>a+)b(?P=word)?',
  '(a)(b)?\\1',
  '(a)\\1*b',
  '(a)\\10',
  '(?:ab)+',
  'a{1}b',
  'a{,2}b',
  'a{2,}',
  'a{1,2}?',
  'a{,}b',
  'a{}',
  'a{x}',
  '{braces}',
  '\\{1\\}',
  'a*?b',
  '(?#comment)ab',
  'a(?=b)',
  'a(?!b)',
  '(?<=a)b',
  '(?<!a)b',
  // Classes.
  '[]a]+',
  '[^]a]+',
  '[a-c-]+',
  '[-a]+',
  '[\\]\\[]+',
  '[.$^]+',
  '[&&]',
  '[\\x41-\\x43]',
  '[\\b]',
  // Escapes.
  '\\x41\\u00e4\\U0001F600?',
  '\\0',
  '\\101',
  '\\t\\n\\v\\f\\a',
  '\\:\\-\\ \\#',
  '\\$5',
  '\\.',
  // Refused by Python (and so by Lathe).
  'a**',
  '*a',
  '(?i',
  'a)',
  '(a',
  '[a',
  '[z-a]',
  '\\q',
  '\\1',
  '(a\\1)',
  'x(?i)y',
  '(?L)a',
  '(?au)a',
  '(?P<1>a)',
  '(?P=nope)',
  '\\x4',
  '\\777',
  'a{3,1}',
  '(?<name>a)',
  '[\\A]',
];

describe('Python regular expressions', { skip: !existsSync(PYTHON) && 'no /usr/bin/python3' }, () => {
  it('match as Python re matches, and are refused where Python refuses them', () => {
    const cases = PATTERNS.map((p) => [p, SUBJECTS] as const);
    const expected = python(PY_SEARCH, cases) as PySearch[];
    for (const [i, [pattern]] of cases.entries()) {
      const py = expected[i]!;
      const js = jsSearch(pattern, SUBJECTS);
      if ('error' in py)
        assert.ok('error' in js, `${pattern}: Python refuses it (${py.error}), Lathe accepted it`);
      else assert.deepEqual(js, py, pattern);
    }
  });

  it('\\d, \\w and \\s hold the characters they hold in Python', () => {
    const names = ['\\d', '\\w', '\\s', '(?a)\\w', '(?a)\\s'];
    const expected = python(PY_CLASSES, names) as Record<string, [number, number][]>;
    const expand = (ranges: [number, number][]) =>
      ranges.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, k) => a + k));
    // Node's Unicode is newer than Python 3.11's: characters Python does not know are left out.
    const unknownToPython = new Set(expand(expected.unassigned!));
    let every = '';
    for (let cp = 0; cp < 0x110000; cp++) if (cp < 0xd800 || cp > 0xdfff) every += String.fromCodePoint(cp);
    for (const name of names) {
      const re = pythonRegExp(name);
      const matched = new Set(
        [...every.matchAll(new RegExp(re.source, `${re.flags}g`))].map((m) => m[0].codePointAt(0)!),
      );
      const python = new Set(expand(expected[name]!));
      // The first few differences, not a diff of a million-element list.
      const differ = (a: Set<number>, b: Set<number>) =>
        [...a]
          .filter((cp) => !b.has(cp) && !unknownToPython.has(cp))
          .slice(0, 10)
          .map((cp) => cp.toString(16));
      assert.deepEqual(differ(python, matched), [], `${name}: characters Python matches and Lathe does not`);
      assert.deepEqual(differ(matched, python), [], `${name}: characters Lathe matches and Python does not`);
    }
  });

  it('refuses what JavaScript cannot express, saying what and where', () => {
    for (const [pattern, reason] of [
      ['a*+', /possessive/],
      ['(?>a)', /atomic/],
      ['(a)?(?(1)b|c)', /conditional/],
      ['\\N{BULLET}', /named characters/],
      ['(?ai)x', /\(\?a\) together with \(\?i\)/],
      ['(?=a)*', /look-around/],
    ] as const) {
      assert.throws(
        () => pythonRegExp(pattern),
        (err: unknown) =>
          err instanceof PythonRegExpError && reason.test(err.message) && err.pattern === pattern,
        pattern,
      );
    }
    assert.throws(() => pythonRegExp('a**'), /regular expression "a\*\*": multiple repeat at position 2/);
  });
});
