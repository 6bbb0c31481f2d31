import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  AutomakeParser,
  CargoTestParser,
  CTestParser,
  feedText,
  GoTestJsonParser,
  GoTestParser,
  JUnitXmlParser,
  LineSplitter,
  NodeSpecParser,
  PytestParser,
  parseSuppressionFile,
  stripAnsi,
  TapParser,
  type TestResultParser,
  type TestSummary,
  testResultParser,
  UnittestParser,
  WarningCounter,
} from '../src/logparsers/index.js';
import { FAILURE, SUCCESS, WARNINGS } from '../src/results.js';
import { tempDir } from './helpers.js';
import {
  AUTOMAKE_PROJECT,
  C_PROJECT,
  CARGO_CRATE,
  CTEST_PROJECT,
  GO_SUITE,
  NODE_SUITE,
  onPath,
  PERL_TAP,
  PYTEST_SUITE,
  PYTHON,
  runTool,
  UNITTEST_SUITE,
  writeFiles,
} from './logparsers-tools.js';

/** Feeds text in awkward pieces (splitting lines mid-way) to prove the parsers stream. */
function parseInPieces(parser: TestResultParser, text: string, piece = 7): TestSummary {
  const splitter = new LineSplitter((l) => parser.line(l));
  for (let i = 0; i < text.length; i += piece) splitter.push(text.slice(i, i + piece));
  splitter.end();
  return parser.summary();
}

function counts(s: TestSummary): Pick<TestSummary, 'passed' | 'failed' | 'skipped' | 'todo' | 'total'> {
  return { passed: s.passed, failed: s.failed, skipped: s.skipped, todo: s.todo, total: s.total };
}

const SYSTEM_NODE = process.env.LATHE_SYSTEM_NODE ?? '/usr/bin/node';

describe('test result parsers on real tool output', () => {
  const dir = tempDir('lathe-logparsers-');
  after(() => dir.cleanup());

  it('node:test spec reporter (Node 24, and the system Node 20 which prints errors inline)', () => {
    writeFiles(dir.path, { 'node/suite.test.mjs': NODE_SUITE });
    const nodes = [process.execPath, ...(existsSync(SYSTEM_NODE) ? [SYSTEM_NODE] : [])];
    for (const node of nodes) {
      const run = runTool(node, ['--test', '--test-reporter=spec', 'suite.test.mjs'], join(dir.path, 'node'));
      assert.equal(run.status, 1, run.combined);
      const s = parseInPieces(new NodeSpecParser(), run.combined);
      // node:test's own totals: the parent test counts as a test, suites do not.
      assert.deepEqual(counts(s), { passed: 6, failed: 2, skipped: 1, todo: 1, total: 10 }, node);
      assert.deepEqual(s.failedNames, ['fails', 'group > inner fails'], node);
      assert.equal(s.failedNamesTruncated, false);
    }
  });

  it('node:test TAP reporter', () => {
    const run = runTool(
      process.execPath,
      ['--test', '--test-reporter=tap', 'suite.test.mjs'],
      join(dir.path, 'node'),
    );
    const s = parseInPieces(new TapParser(), run.stdout, 13);
    assert.deepEqual(counts(s), { passed: 6, failed: 2, skipped: 1, todo: 1, total: 10 });
    assert.deepEqual(s.failedNames, ['fails', 'group > inner fails']);
    // Without node's `# tests` totals the parser counts leaves: the parent test is not one.
    const leavesOnly = run.stdout
      .split('\n')
      .filter((l) => !/^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(l))
      .join('\n');
    const t = new TapParser();
    feedText(t, leavesOnly);
    assert.deepEqual(counts(t.summary()), { passed: 5, failed: 2, skipped: 1, todo: 1, total: 9 });
  });

  it("TAP from Perl's Test::More, with a subtest, a skip and a TODO", () => {
    writeFiles(dir.path, { 'perl/sample.t': PERL_TAP });
    const run = runTool('perl', ['sample.t'], join(dir.path, 'perl'));
    assert.equal(run.status, 2, run.combined);
    const p = new TapParser();
    const s = parseInPieces(p, run.combined, 5);
    assert.deepEqual(counts(s), { passed: 2, failed: 2, skipped: 1, todo: 1, total: 6 });
    assert.deepEqual(s.failedNames, ['fails', 'group > inner fails']);
    assert.equal(p.plan, 5);
  });

  it('pytest -rA, pytest -v and pytest --junitxml', () => {
    writeFiles(dir.path, { 'py/test_sample.py': PYTEST_SUITE });
    const cwd = join(dir.path, 'py');
    const expected = { passed: 3, failed: 3, skipped: 1, todo: 1, total: 8 };
    const expectedNames = [
      'test_sample.py::test_error',
      'test_sample.py::test_fails',
      'test_sample.py::test_param[2]',
    ];
    const rA = runTool(
      PYTHON,
      ['-m', 'pytest', '-rA', '-p', 'no:cacheprovider', '--junitxml=junit.xml', 'test_sample.py'],
      cwd,
    );
    assert.equal(rA.status, 1, rA.combined);
    const a = parseInPieces(new PytestParser(), rA.combined);
    assert.deepEqual(counts(a), expected);
    assert.deepEqual([...a.failedNames].sort(), expectedNames);

    const v = runTool(PYTHON, ['-m', 'pytest', '-v', '-p', 'no:cacheprovider', 'test_sample.py'], cwd);
    const b = parseInPieces(new PytestParser(), v.combined, 11);
    assert.deepEqual(counts(b), expected);
    assert.deepEqual([...b.failedNames].sort(), expectedNames);

    const q = runTool(PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'test_sample.py'], cwd);
    const quiet = parseInPieces(new PytestParser(), q.combined);
    assert.deepEqual(counts(quiet), expected, 'the bare -q final line');
    assert.deepEqual([...quiet.failedNames].sort(), expectedNames);

    // A run killed before its final line: counts come from the -v lines seen so far.
    const cut = v.combined.slice(0, v.combined.indexOf('test_sample.py::test_error'));
    const partial = parseInPieces(new PytestParser(), cut);
    assert.deepEqual(counts(partial), { passed: 2, failed: 2, skipped: 1, todo: 1, total: 6 });

    const xml = readFileSync(join(cwd, 'junit.xml'), 'utf8');
    const j = new JUnitXmlParser();
    for (let i = 0; i < xml.length; i += 3) j.write(xml.slice(i, i + 3));
    const js = j.summary();
    assert.deepEqual(counts(js), expected);
    assert.deepEqual([...js.failedNames].sort(), [
      'test_sample.test_error',
      'test_sample.test_fails',
      'test_sample.test_param[2]',
    ]);
  });

  it('python -m unittest, verbose and quiet', () => {
    writeFiles(dir.path, { 'ut/test_unit.py': UNITTEST_SUITE });
    const cwd = join(dir.path, 'ut');
    const expected = { passed: 1, failed: 3, skipped: 1, todo: 1, total: 6 };
    for (const args of [['-v'], []]) {
      const run = runTool(PYTHON, ['-m', 'unittest', ...args, 'test_unit'], cwd);
      assert.equal(run.status, 1, run.combined);
      const s = parseInPieces(new UnittestParser(), run.combined);
      assert.deepEqual(counts(s), expected, args.join(' '));
      assert.equal(s.failedNames.length, 3);
      assert.ok(s.failedNames.some((n) => n.startsWith('test_error ')));
      assert.ok(s.failedNames.some((n) => n.includes('(i=1)')));
    }
  });

  it('go test -v and go test -json', () => {
    const cwd = join(dir.path, 'go');
    writeFiles(cwd, { 'go.mod': 'module example.org/sample\n\ngo 1.19\n', 'sample_test.go': GO_SUITE });
    const env = {
      GOCACHE: join(dir.path, 'gocache'),
      GOPATH: join(dir.path, 'gopath'),
      GOFLAGS: '-mod=mod',
      GOPROXY: 'off',
      GOTOOLCHAIN: 'local',
    };
    const expected = { passed: 4, failed: 3, skipped: 1, todo: 0, total: 8 };
    const expectedNames = ['TestFails', 'TestOwnFailureAfterChildren', 'TestParent/child_fails'];
    const v = runTool('go', ['test', '-v', './...'], cwd, env);
    assert.equal(v.status, 1, v.combined);
    const a = parseInPieces(new GoTestParser(), v.combined);
    assert.deepEqual(counts(a), expected);
    assert.deepEqual([...a.failedNames].sort(), expectedNames);

    const j = runTool('go', ['test', '-json', './...'], cwd, env);
    const b = parseInPieces(new GoTestJsonParser(), j.stdout, 50);
    assert.deepEqual(counts(b), expected);
    assert.deepEqual([...b.failedNames].sort(), expectedNames);

    // A package that does not compile fails with no test to blame: the package is named.
    writeFiles(cwd, { 'broken/broken_test.go': 'package broken\n\nfunc TestX(t *testing.T) {}\n' });
    const broken = runTool('go', ['test', '-v', './broken/'], cwd, env);
    const c = parseInPieces(new GoTestParser(), broken.combined);
    assert.equal(c.failed, 1, broken.combined);
    assert.deepEqual(c.failedNames, ['example.org/sample/broken']);
  });
});

// Tools scripts/test-deps.mjs requires in CI (Debian automake, cmake, cargo): a developer
// machine without them skips these tests with a warning from npm test.
describe('test result parsers on real build-system output', () => {
  const dir = tempDir('lathe-logparsers-build-');
  after(() => dir.cleanup());

  it('automake make check: result lines and the summary blocks of a recursive make', {
    skip: !onPath('autoreconf') && 'no autoreconf',
  }, () => {
    const cwd = join(dir.path, 'automake');
    writeFiles(cwd, AUTOMAKE_PROJECT);
    for (const name of Object.keys(AUTOMAKE_PROJECT))
      if (name.endsWith('.sh')) chmodSync(join(cwd, name), 0o755);
    const setup = runTool('sh', ['-c', 'autoreconf -i && ./configure -q'], cwd);
    assert.equal(setup.status, 0, setup.combined);
    // AM_COLOR_TESTS: the harness colours its result lines, as on a terminal.
    const run = runTool('make', ['check', 'AM_COLOR_TESTS=always'], cwd, { LC_ALL: 'C' });
    assert.notEqual(run.status, 0, run.combined);
    assert.match(stripAnsi(run.stdout), /# TOTAL: 1\n[\s\S]*# TOTAL: 6\n/, 'two summary blocks');
    const expected = { passed: 2, failed: 3, skipped: 1, todo: 1, total: 7 };
    const s = parseInPieces(new AutomakeParser(), run.combined);
    assert.deepEqual(counts(s), expected);
    assert.deepEqual(s.failedNames, ['fail.sh', 'xpass.sh', 'error.sh']);
    // The summary blocks alone (result lines cut out) give the same counts.
    const blocks = new AutomakeParser();
    feedText(
      blocks,
      run.combined
        .split('\n')
        .filter((l) => !/(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR)\u001b\[m: /.test(l))
        .join('\n'),
    );
    assert.deepEqual(counts(blocks.summary()), expected);
    // Cut before the summaries: the result lines seen so far.
    const cut = parseInPieces(
      new AutomakeParser(),
      run.combined.slice(0, run.combined.indexOf('XPASS\u001b[m: ')),
    );
    assert.deepEqual(counts(cut), { passed: 2, failed: 1, skipped: 1, todo: 1, total: 5 });
  });

  it('ctest: every outcome, the summary line and the failed list', {
    skip: !onPath('ctest') && 'no ctest',
  }, () => {
    const cwd = join(dir.path, 'ctest');
    writeFiles(cwd, CTEST_PROJECT);
    const setup = runTool('cmake', ['-S', '.', '-B', 'build'], cwd);
    assert.equal(setup.status, 0, setup.combined);
    const expectedNames = ['fails', 'missing', 'slow', 'willfail'];
    // "with space" passes; disabled and skipped are skips; the summary says 4 failed out of 7.
    const expected = { passed: 2, failed: 4, skipped: 2, todo: 0, total: 8 };
    const runs = [[], ['-j2', '--output-on-failure']].map((args) => {
      const run = runTool('ctest', args, join(cwd, 'build'));
      assert.notEqual(run.status, 0, run.combined);
      assert.match(run.stdout, /tests passed, 4 tests failed out of 7/);
      const s = parseInPieces(new CTestParser(), run.combined);
      assert.deepEqual(counts(s), expected, args.join(' '));
      assert.deepEqual([...s.failedNames].sort(), expectedNames);
      return run;
    });
    // From the summary line on (the per-test lines cut off): its figures and the failed list's
    // names. CTest counts the skipped test among the 7 it ran, so it reads as passed here.
    const out = runs[0]!.stdout;
    const summaryOnly = new CTestParser();
    feedText(summaryOnly, out.slice(out.lastIndexOf('\n', out.indexOf('% tests passed')) + 1));
    const s = summaryOnly.summary();
    assert.deepEqual([s.passed, s.failed], [3, 4]);
    assert.deepEqual([...s.failedNames].sort(), expectedNames);
  });

  it('cargo test: test lines and result lines summed over the test binaries', {
    skip: !onPath('cargo') && 'no cargo',
  }, () => {
    const cwd = join(dir.path, 'cargo');
    writeFiles(cwd, CARGO_CRATE);
    const env = {
      CARGO_TARGET_DIR: join(dir.path, 'cargo-target'),
      CARGO_HOME: join(dir.path, 'cargo-home'),
      RUST_BACKTRACE: '0',
    };
    const run = runTool('cargo', ['test', '--offline', '--no-fail-fast'], cwd, env);
    assert.equal(run.status, 101, run.combined);
    assert.equal(
      run.combined.match(/^test result: /gm)?.length,
      3,
      'unit tests, integration tests, doc-tests',
    );
    const expected = { passed: 4, failed: 2, skipped: 1, todo: 0, total: 7 };
    const s = parseInPieces(new CargoTestParser(), run.combined);
    assert.deepEqual(counts(s), expected);
    assert.deepEqual([...s.failedNames].sort(), ['integration_fails', 'tests::fails']);
    // Without the result lines (a run killed early): the test lines.
    const lines = new CargoTestParser();
    feedText(
      lines,
      run.combined
        .split('\n')
        .filter((l) => !l.startsWith('test result:'))
        .join('\n'),
    );
    assert.deepEqual(counts(lines.summary()), expected);
    // A crate that does not compile: no test ran, the crate failed.
    writeFiles(cwd, { 'src/lib.rs': 'pub fn broken() -> i32 { "no" }\n' });
    const broken = runTool('cargo', ['test', '--offline'], cwd, env);
    const b = parseInPieces(new CargoTestParser(), broken.combined);
    assert.deepEqual(counts(b), { passed: 0, failed: 1, skipped: 0, todo: 0, total: 1 }, broken.combined);
    assert.deepEqual(b.failedNames, ['sample']);
  });
});

describe('test result parsers: edge cases', () => {
  it('keeps memory bounded on a huge failing suite and caps failing names', () => {
    const parser = testResultParser('tap', { maxFailedNames: 5 });
    parser.line('TAP version 13');
    for (let i = 1; i <= 50_000; i++) parser.line(`${i % 2 ? 'not ok' : 'ok'} ${i} - case ${i}`);
    const s = parser.summary();
    assert.equal(s.failed, 25_000);
    assert.equal(s.passed, 25_000);
    assert.equal(s.failedNames.length, 5);
    assert.equal(s.failedNamesTruncated, true);
  });

  it('skips comments, CDATA and entities in JUnit XML and names cases by class', () => {
    const j = new JUnitXmlParser();
    j.write('<?xml version="1.0"?><!-- <testcase name="not a case"/> --><testsuites><testsuite>');
    j.write(
      '<testcase classname="a.B" name="x &amp; &lt;y&gt;"><failure><![CDATA[ <testcase> ]]></failure></testcase>',
    );
    j.write('<testcase name=\'solo\' /><testcase classname="c" name="s"><skipped/></testcase>');
    j.write('<testcase classname="c" name="e"><error message="a > b"/></testcase></testsuite></testsuites>');
    const s = j.summary();
    assert.deepEqual(counts(s), { passed: 1, failed: 2, skipped: 1, todo: 0, total: 4 });
    assert.deepEqual(s.failedNames, ['a.B.x & <y>', 'c.e']);
  });

  it('splits chunks into lines, cuts endless lines and strips colours', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l), { maxLineLength: 4 });
    s.push('ab');
    s.push('c\r\nabcdefghij');
    s.push('\n\nxyz');
    s.end();
    assert.deepEqual(lines, ['abc', 'abcd', 'efgh', 'ij', '', 'xyz']);
    const p = new NodeSpecParser();
    p.line('\u001b[32m✔ coloured (1ms)\u001b[39m');
    p.line('\u001b[31m✖ red (1ms)\u001b[39m');
    assert.deepEqual(counts(p.summary()), { passed: 1, failed: 1, skipped: 0, todo: 0, total: 2 });
  });
});

describe('warning counter', () => {
  const dir = tempDir('lathe-warnings-');
  after(() => dir.cleanup());

  it('counts gcc warnings from a recursive make, with directory-aware suppressions', () => {
    writeFiles(dir.path, C_PROJECT);
    // One pipe for both streams, as a worker's log interleaves them: make's directory lines
    // go to stdout and gcc's warnings to stderr.
    const run = runTool('sh', ['-c', 'make 2>&1'], dir.path, { LC_ALL: 'C' });
    assert.equal(run.status, 0, run.combined);
    const plain = new WarningCounter();
    feedText(plain, run.combined);
    const all = plain.report();
    assert.equal(all.count, 3, run.combined);
    assert.equal(plain.stepResult(SUCCESS), WARNINGS);

    const counter = new WarningCounter({
      pattern: /(.+?):(\d+):\d+: warning: (.*)/,
      extract: 'regexpGroups',
      suppressions: parseSuppressionFile(
        [
          '# unused parameters are fine in a.c, and one variable in b.c on lines 1-3',
          '.*/lib/a\\.c : unused parameter',
          '.*/lib/b\\.c : unused variable : 1-3',
          '.*/lib/b\\.c : never matches : 40',
        ].join('\n'),
      ),
      maxRecorded: 1,
      maxWarnCount: 0,
    });
    feedText(counter, run.combined);
    const r = counter.report();
    assert.equal(r.count, 1);
    assert.match(r.warnings[0]!, /a\.c:2:\d+: warning: unused variable/);
    assert.equal(r.truncated, false);
    assert.equal(counter.stepResult(SUCCESS), FAILURE, 'more than maxWarnCount fails the step');
  });

  it('records at most maxRecorded lines and leaves clean output alone', () => {
    const c = new WarningCounter({ maxRecorded: 2 });
    for (let i = 0; i < 10; i++) c.line(`x.c:${i}: Warning: thing ${i}`);
    c.line('no warnings here');
    c.line('warningless');
    assert.deepEqual(c.report(), {
      count: 10,
      warnings: ['x.c:0: Warning: thing 0', 'x.c:1: Warning: thing 1'],
      truncated: true,
    });
    const clean = new WarningCounter();
    clean.line('all good');
    assert.equal(clean.stepResult(FAILURE), FAILURE);
    assert.equal(clean.stepResult(SUCCESS), SUCCESS);
  });
});
