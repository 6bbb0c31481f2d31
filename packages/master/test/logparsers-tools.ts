// Runs real test tools on tiny fixture suites so the parsers are tested on genuine output.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PYTHON = process.env.LATHE_TEST_PYTHON ?? '/usr/bin/python3';

export interface ToolRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
  /** stdout then stderr, as a worker's combined log would hold them. */
  readonly combined: string;
}

export function runTool(
  cmd: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): ToolRun {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, NO_COLOR: '1' };
  // Inside `node --test` this variable would make a nested `node --test` talk to our runner.
  delete childEnv.NODE_TEST_CONTEXT;
  delete childEnv.FORCE_COLOR;
  const r = spawnSync(cmd, [...args], { cwd, env: childEnv, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`, { cause: r.error });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, combined: r.stdout + r.stderr };
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content);
  }
}

/** 2 pass, 2 fail (one nested), 1 skip, 1 todo among the leaves; a suite and a parent test. */
export const NODE_SUITE = `import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
test('adds', () => assert.equal(1 + 1, 2));
test('fails', () => assert.equal(1, 2));
test('skipped', { skip: 'not here' }, () => {});
test('todo', { todo: true }, () => {});
describe('group', () => {
  it('inner ok', () => {});
  it('inner fails', () => { throw new Error('boom'); });
  describe('deeper', () => { it('deep ok', () => {}); });
});
test('parent', async (t) => {
  await t.test('child a', () => {});
  await t.test('child b', () => {});
});
`;

export const PYTEST_SUITE = `import pytest

def test_adds():
    assert 1 + 1 == 2

def test_fails():
    assert 1 == 2

@pytest.mark.skip(reason="not here")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert n == 1

@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")

def test_error(broken):
    pass

class TestGroup:
    def test_inner(self):
        print("warning: not a compiler warning")
`;

export const UNITTEST_SUITE = `import unittest

class Sample(unittest.TestCase):
    def test_ok(self):
        self.assertEqual(1, 1)
    def test_fail(self):
        self.assertEqual(1, 2)
    def test_error(self):
        raise RuntimeError("boom")
    @unittest.skip("not here")
    def test_skip(self):
        pass
    @unittest.expectedFailure
    def test_xfail(self):
        self.assertEqual(1, 2)
    def test_sub(self):
        for i in range(2):
            with self.subTest(i=i):
                self.assertEqual(i, 0)
`;

export const PERL_TAP = `use strict; use warnings;
use Test::More tests => 5;
ok(1, 'adds');
is(1, 2, 'fails');
SKIP: { skip 'not here', 1; ok(1, 'skipped'); }
TODO: { local $TODO = 'later'; ok(0, 'todo'); }
subtest 'group' => sub { plan tests => 2; ok(1, 'inner ok'); ok(0, 'inner fails'); };
`;

export const GO_SUITE = `package sample

import "testing"

func TestAdds(t *testing.T) {
	if 1+1 != 2 {
		t.Fatal("math")
	}
}

func TestFails(t *testing.T) {
	t.Errorf("expected %d, got %d", 1, 2)
}

func TestSkipped(t *testing.T) {
	t.Skip("not here")
}

func TestParent(t *testing.T) {
	t.Run("child_ok", func(t *testing.T) {})
	t.Run("child_fails", func(t *testing.T) { t.Error("bad child") })
	t.Run("nested", func(t *testing.T) {
		t.Run("deep", func(t *testing.T) {})
	})
}

func TestOwnFailureAfterChildren(t *testing.T) {
	t.Run("fine", func(t *testing.T) {})
	t.Error("the parent itself failed")
}
`;

/** Two files in a subdirectory built through a recursive make, with gcc warnings. */
export const C_PROJECT: Record<string, string> = {
  Makefile: 'all:\n\t$(MAKE) -C lib\n',
  'lib/Makefile': 'CFLAGS=-Wall -Wextra -c\nall:\n\tgcc $(CFLAGS) a.c -o a.o\n\tgcc $(CFLAGS) b.c -o b.o\n',
  'lib/a.c': 'int f(int unused_param) {\n  int unused_var;\n  return 0;\n}\n',
  'lib/b.c': 'int g(void) {\n  int also_unused;\n  return 0;\n}\n',
};

/**
 * An automake project with one test of each outcome, one of them in a subdirectory (its
 * own summary block), as `make check` runs them with the parallel harness.
 */
export const AUTOMAKE_PROJECT: Record<string, string> = {
  'configure.ac':
    'AC_INIT([sample], [1.0])\nAM_INIT_AUTOMAKE([foreign -Wall])\nAC_CONFIG_FILES([Makefile sub/Makefile])\nAC_OUTPUT\n',
  'Makefile.am':
    'SUBDIRS = sub\nTESTS = pass.sh fail.sh skip.sh xfail.sh xpass.sh error.sh\nXFAIL_TESTS = xfail.sh xpass.sh\n',
  'sub/Makefile.am': 'TESTS = deep.sh\n',
  'pass.sh': '#!/bin/sh\nexit 0\n',
  'fail.sh': '#!/bin/sh\necho "warning: from a test"\nexit 1\n',
  'skip.sh': '#!/bin/sh\nexit 77\n',
  'xfail.sh': '#!/bin/sh\nexit 1\n',
  'xpass.sh': '#!/bin/sh\nexit 0\n',
  'error.sh': '#!/bin/sh\nexit 99\n',
  'sub/deep.sh': '#!/bin/sh\nexit 0\n',
};

/** Every CTest outcome: passed, failed, skipped, not run (missing program), disabled, timeout, WILL_FAIL. */
export const CTEST_PROJECT: Record<string, string> = {
  'CMakeLists.txt': `cmake_minimum_required(VERSION 3.19)
project(sample NONE)
enable_testing()
add_test(NAME passes COMMAND sh -c "exit 0")
add_test(NAME fails COMMAND sh -c "echo 'warning: from ctest'; exit 1")
add_test(NAME skipped COMMAND sh -c "exit 77")
set_tests_properties(skipped PROPERTIES SKIP_RETURN_CODE 77)
add_test(NAME missing COMMAND /nonexistent/program)
add_test(NAME "with space" COMMAND sh -c "exit 0")
add_test(NAME disabled COMMAND sh -c "exit 0")
set_tests_properties(disabled PROPERTIES DISABLED TRUE)
add_test(NAME slow COMMAND sh -c "sleep 5")
set_tests_properties(slow PROPERTIES TIMEOUT 1)
add_test(NAME willfail COMMAND sh -c "exit 0")
set_tests_properties(willfail PROPERTIES WILL_FAIL TRUE)
`,
};

/** A crate without dependencies (builds offline): unit tests, an integration test binary and a doc-test. */
export const CARGO_CRATE: Record<string, string> = {
  'Cargo.toml': '[package]\nname = "sample"\nversion = "0.1.0"\nedition = "2021"\n',
  'src/lib.rs': `pub fn add(a: i32, b: i32) -> i32 { a + b }

#[cfg(test)]
mod tests {
    #[test]
    fn adds() { assert_eq!(super::add(1, 1), 2); }
    #[test]
    fn fails() { assert_eq!(super::add(1, 1), 3); }
    #[test]
    #[ignore]
    fn ignored() {}
    #[test]
    #[should_panic]
    fn panics() { panic!("expected"); }
}

/// \`\`\`
/// assert_eq!(sample::add(2, 2), 4);
/// \`\`\`
pub fn documented() {}
`,
  'tests/integration.rs': `#[test]
fn integrates() { assert_eq!(sample::add(2, 3), 5); }
#[test]
fn integration_fails() { assert!(false, "nope"); }
`,
};

/** Whether a command is on PATH (the build-system tests skip without theirs, outside CI). */
export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}
