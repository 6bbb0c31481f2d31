/**
 * Fixtures the harness puts in place before the master starts: a local bare git
 * repository holding a tiny C project (deterministic commit, so the revision is the
 * same on every run) and a pseudo-random binary payload for the transfer builder.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessSet } from './processes.js';

const HELLO_C = `#include <stdio.h>

int main(void) {
  printf("Hello, Lathe!\\n");
  return 0;
}
`;

const MAKEFILE = `CC ?= cc

all: hello

hello: hello.c
\t$(CC) -O2 -o hello hello.c

test: hello
\t./hello > out.txt
\tgrep -q 'Hello, Lathe!' out.txt
\t@echo "make test: 1 test passed"

.PHONY: all test
`;

/** Creates `<dir>/src` (working copy) and `<dir>/repo.git` (bare); returns the bare repo path. */
export async function createGitProject(
  procs: ProcessSet,
  dir: string,
  env: Record<string, string>,
): Promise<{ repo: string; revision: string }> {
  const src = join(dir, 'src');
  const repo = join(dir, 'repo.git');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'hello.c'), HELLO_C);
  writeFileSync(join(src, 'Makefile'), MAKEFILE);
  writeFileSync(join(src, '.gitignore'), 'hello\nout.txt\n');
  const gitEnv = {
    ...env,
    GIT_AUTHOR_NAME: 'Lathe Harness',
    GIT_AUTHOR_EMAIL: 'harness@lathe.invalid',
    GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z',
    GIT_COMMITTER_NAME: 'Lathe Harness',
    GIT_COMMITTER_EMAIL: 'harness@lathe.invalid',
    GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  const git = (cwd: string, ...args: string[]) =>
    procs.check('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env: gitEnv });
  await git(dir, 'init', '--quiet', '--bare', repo);
  await git(src, 'init', '--quiet');
  await git(src, 'add', '.');
  await git(src, 'commit', '--quiet', '-m', 'tiny C project');
  await git(src, 'push', '--quiet', repo, 'HEAD:refs/heads/main');
  const revision = (await git(src, 'rev-parse', 'HEAD')).trim();
  return { repo, revision };
}

/** Deterministic pseudo-random bytes (xorshift32), not a multiple of any block size. */
export function payload(size = 1024 * 1024 + 12345): Buffer {
  const buf = Buffer.alloc(size);
  let x = 0x12345678;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
