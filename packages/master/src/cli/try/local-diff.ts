// What `lathe try` sends: the difference between the local git tree (committed or not,
// tracked files only) and where its branch forked from its upstream — `git merge-base
// HEAD @{u}` — with the upstream's branch name, so the master checks out the fork point
// and applies the diff on top.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class LocalTreeError extends Error {
  override readonly name = 'LocalTreeError';
}

export interface LocalDiff {
  /** The upstream's branch name on its remote (`main` for `origin/main`). */
  readonly branch: string;
  /** The upstream as git names it (`origin/main`). */
  readonly upstream: string;
  /** The fork point: the revision the master builds and patches. */
  readonly baseRevision: string;
  /** `git diff` output with a/ and b/ prefixes: apply with -p1. */
  readonly diff: Buffer;
  readonly patchLevel: 1;
}

async function git(
  dir: string,
  args: readonly string[],
): Promise<{ ok: boolean; stdout: Buffer; stderr: string }> {
  try {
    const { stdout, stderr } = await run('git', ['-C', dir, ...args], {
      encoding: 'buffer',
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, LC_ALL: 'C' },
    });
    return { ok: true, stdout, stderr: stderr.toString('utf8') };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: Buffer; stderr?: Buffer };
    if (e.code === 'ENOENT') throw new LocalTreeError('git is not installed (no `git` on PATH)');
    return { ok: false, stdout: e.stdout ?? Buffer.alloc(0), stderr: e.stderr?.toString('utf8') ?? '' };
  }
}

export async function localDiff(dir: string): Promise<LocalDiff> {
  const top = await git(dir, ['rev-parse', '--show-toplevel']);
  if (!top.ok) throw new LocalTreeError(`${dir} is not in a git work tree`);
  const tree = top.stdout.toString('utf8').trim();
  const upstream = await git(tree, ['rev-parse', '--abbrev-ref', '--symbolic-full-name', '@{u}']);
  if (!upstream.ok) {
    const head = await git(tree, ['rev-parse', '--abbrev-ref', 'HEAD']);
    const branch = head.stdout.toString('utf8').trim();
    throw new LocalTreeError(
      branch === 'HEAD'
        ? `the tree ${tree} is on a detached HEAD, which has no upstream to diff against; check out a branch that tracks one`
        : `the branch ${JSON.stringify(branch)} of ${tree} has no upstream to diff against; set one with \`git branch --set-upstream-to=<remote>/<branch>\``,
    );
  }
  const upstreamName = upstream.stdout.toString('utf8').trim();
  const remoteBranch = await git(tree, ['rev-parse', '--symbolic-full-name', '@{u}']);
  const full = remoteBranch.stdout.toString('utf8').trim();
  // refs/remotes/<remote>/<branch> → <branch>; a local upstream is refs/heads/<branch>.
  const branch = full.replace(/^refs\/remotes\/[^/]+\//, '').replace(/^refs\/heads\//, '');
  const base = await git(tree, ['merge-base', 'HEAD', '@{u}']);
  if (!base.ok)
    throw new LocalTreeError(
      `HEAD and its upstream ${upstreamName} have no common ancestor: ${base.stderr.trim()}`,
    );
  const baseRevision = base.stdout.toString('utf8').trim();
  const diff = await git(tree, [
    'diff',
    '--binary',
    '--src-prefix=a/',
    '--dst-prefix=b/',
    '--no-textconv',
    '--no-ext-diff',
    baseRevision,
  ]);
  if (!diff.ok) throw new LocalTreeError(`git diff ${baseRevision} failed: ${diff.stderr.trim()}`);
  return { branch, upstream: upstreamName, baseRevision, diff: diff.stdout, patchLevel: 1 };
}
