// The real project of the end-to-end tests: a small C program with a Makefile and a unit
// test, committed to a local git repository that the Git step checks out.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.org',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.org',
    },
  }).trim();
}

/** A small C program with a unit test, on branch main; branch broken has a bug the test catches. */
export function createProject(dir: string): { main: string; broken: string } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'add.h'), 'int add(int a, int b);\n');
  writeFileSync(join(dir, 'add.c'), '#include "add.h"\nint add(int a, int b) { return a + b; }\n');
  writeFileSync(
    join(dir, 'hello.c'),
    '#include <stdio.h>\n#include "add.h"\nint main(void) { printf("hello, world: 2+3=%d\\n", add(2, 3)); return 0; }\n',
  );
  writeFileSync(
    join(dir, 'test_add.c'),
    [
      '#include <stdio.h>',
      '#include "add.h"',
      'static int failures;',
      'static void check(int got, int want, const char *what) {',
      '  if (got != want) { printf("FAIL %s: got %d, want %d\\n", what, got, want); failures++; }',
      '  else printf("ok %s\\n", what);',
      '}',
      'int main(void) {',
      '  check(add(2, 3), 5, "2+3");',
      '  check(add(-1, 1), 0, "-1+1");',
      '  if (failures) { printf("%d test(s) failed\\n", failures); return 1; }',
      '  printf("all tests passed\\n");',
      '  return 0;',
      '}',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'Makefile'),
    [
      'CC ?= cc',
      'all: hello',
      'hello: hello.c add.c add.h',
      '\t$(CC) -Wall -o hello hello.c add.c',
      'test_add: test_add.c add.c add.h',
      '\t$(CC) -Wall -o test_add test_add.c add.c',
      'test: hello test_add',
      '\t./hello',
      '\t./test_add > test-results.txt; status=$$?; cat test-results.txt; exit $$status',
      '.PHONY: all test',
      '',
    ].join('\n'),
  );
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'hello with add');
  const main = git(dir, 'rev-parse', 'HEAD');
  git(dir, 'checkout', '-q', '-b', 'broken');
  writeFileSync(join(dir, 'add.c'), '#include "add.h"\nint add(int a, int b) { return a - b; }\n');
  git(dir, 'commit', '-q', '-am', 'break add');
  const broken = git(dir, 'rev-parse', 'HEAD');
  git(dir, 'checkout', '-q', 'main');
  return { main, broken };
}
