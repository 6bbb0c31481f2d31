// The git poller on a remote repository (file:// URL and plain path): mirrored under the
// master directory, the first poll records heads only, branch names and patterns select
// what is watched, a force-push reports only the new commits, and an unreachable remote is
// logged (without credentials) and retried until it answers again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ChangeInput, ChangeSourceContext } from '../src/changes/change-source.js';
import { GitPoller, type GitPollerOptions, gitPollerConfig, mirrorDir } from '../src/changes/git-poller.js';
import { PBUserRegistry } from '../src/changes/pb-users.js';
import { waitFor } from './bbworker.js';
import { gitIn } from './git-repo.js';
import { tempDir } from './helpers.js';

const dir = tempDir('lathe-gitpoller-remote-');
after(() => dir.cleanup());

let repoCount = 0;
/** A fresh upstream repository with one commit on main. */
function upstream() {
  const repo = join(dir.path, `upstream-${++repoCount}`);
  mkdirSync(repo);
  const git = gitIn(repo);
  let n = 0;
  const commit = (message = `commit ${n}`) => {
    writeFileSync(join(repo, `f${++n}.txt`), message);
    git('add', '.');
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  git('init', '-q', '-b', 'main');
  commit('root');
  return { repo, git, commit };
}

/** Change-source state kept for one poller's life, as a master that never restarts. */
function memoryState(): ChangeSourceContext['state'] {
  const values = new Map<string, unknown>();
  return {
    get: async (source, key) => values.get(`${source} ${key}`),
    set: async (source, key, value) => void values.set(`${source} ${key}`, value),
  };
}

function poller(options: GitPollerOptions) {
  const changes: ChangeInput[] = [];
  const warnings: string[] = [];
  const basedir = join(dir.path, `master-${++repoCount}`);
  const config = gitPollerConfig(options);
  const p = new GitPoller(config, {
    addChange: async (c) => changes.push(c),
    state: memoryState(),
    pbUsers: new PBUserRegistry(),
    log: { info: () => {}, warn: (m) => warnings.push(m) },
    basedir,
  });
  return { poller: p, changes, warnings, mirror: mirrorDir(basedir, config) };
}

const summary = (changes: readonly ChangeInput[]) => changes.map((c) => [c.branch, c.revision, c.comments]);

describe('the git poller on a remote repository', () => {
  it('mirrors a file:// remote, records heads on the first poll, then reports new commits', async () => {
    const up = upstream();
    for (let i = 0; i < 5; i++) up.commit();
    const t = poller({ repourl: `file://${up.repo}`, branches: ['main'] });
    await t.poller.poll();
    assert.equal(t.changes.length, 0, 'no flood of old commits');
    assert.ok(existsSync(join(t.mirror, 'HEAD')), 'a bare mirror under the master directory');
    assert.ok(t.mirror.startsWith(join(dir.path, `master-`)));
    const a = up.commit('new a');
    const b = up.commit('new b');
    await t.poller.poll();
    assert.deepEqual(summary(t.changes), [
      ['main', a, 'new a'],
      ['main', b, 'new b'],
    ]);
    assert.equal(t.changes[0]?.repository, `file://${up.repo}`);
    assert.deepEqual(t.changes[0]?.files, ['f7.txt']);
  });

  it('watches branches by name and by pattern, and reports a new matching branch by its head', async () => {
    const up = upstream();
    up.git('branch', 'release-1');
    up.git('branch', 'feature-x');
    const t = poller({ repourl: up.repo, branches: ['main', /release-\d+/] });
    await t.poller.poll();
    up.git('checkout', '-q', 'release-1');
    const r1 = up.commit('fix release 1');
    up.git('checkout', '-q', 'feature-x');
    up.commit('feature work');
    up.git('checkout', '-q', '-b', 'release-2');
    const r2 = up.commit('start release 2');
    up.git('checkout', '-q', '-b', 'release-2x');
    up.commit('not a release: the pattern must match the whole name');
    up.git('checkout', '-q', 'main');
    await t.poller.poll();
    assert.deepEqual(summary(t.changes), [
      ['release-1', r1, 'fix release 1'],
      ['release-2', r2, 'start release 2'],
    ]);
  });

  it('after a force-push reports only the new commits, and keeps polling', async () => {
    const up = upstream();
    up.commit('kept');
    up.commit('to be rewritten 1');
    up.commit('to be rewritten 2');
    const t = poller({ repourl: `file://${up.repo}`, branches: true });
    await t.poller.poll();
    up.git('reset', '-q', '--hard', 'HEAD~2');
    const x = up.commit('rewritten history');
    up.git('reflog', 'expire', '--expire=now', '--all');
    up.git('gc', '-q', '--prune=now');
    await t.poller.poll();
    assert.deepEqual(summary(t.changes), [['main', x, 'rewritten history']]);
    // Rewound to an older commit: nothing new to build.
    up.git('reset', '-q', '--hard', 'HEAD~1');
    await t.poller.poll();
    assert.equal(t.changes.length, 1);
    const y = up.commit('after the rewind');
    await t.poller.poll();
    assert.deepEqual(summary(t.changes).at(-1), ['main', y, 'after the rewind']);
    assert.deepEqual(t.warnings, []);
  });

  it('survives rewritten history whose old head is gone from the mirror: reports the new head', async () => {
    const up = upstream();
    up.commit('old 1');
    const t = poller({ repourl: `file://${up.repo}`, branches: ['main'] });
    await t.poller.poll();
    up.git('reset', '-q', '--hard', 'HEAD~1');
    up.commit('rewritten 1');
    const head = up.commit('rewritten 2');
    // The mirror learns the rewrite and collects the old commits before the poller compares.
    const mirrorGit = (...args: string[]) => execFileSync('git', ['-C', t.mirror, ...args]);
    mirrorGit('fetch', '-q', up.repo, '+refs/heads/*:refs/heads/*');
    mirrorGit('reflog', 'expire', '--expire=now', '--all');
    mirrorGit('gc', '-q', '--prune=now');
    await t.poller.poll();
    assert.deepEqual(summary(t.changes), [['main', head, 'rewritten 2']]);
    assert.match(t.warnings.join('\n'), /cannot compare with old head/);
  });

  it('logs an unreachable remote, retries at the next interval, and catches up once it is back', async () => {
    const up = upstream();
    const t = poller({ repourl: `file://${up.repo}`, branches: ['main'], pollInterval: 0.2 });
    await t.poller.start();
    try {
      // The first poll has recorded the heads once the mirror has the branch.
      const fetched = () =>
        existsSync(join(t.mirror, 'refs', 'heads', 'main')) || existsSync(join(t.mirror, 'packed-refs'));
      await waitFor(fetched, 20_000, 'the first poll');
      await new Promise((r) => setTimeout(r, 300));
      const hidden = `${up.repo}-away`;
      renameSync(up.repo, hidden);
      await waitFor(() => t.warnings.length >= 2, 10_000, 'two failed polls');
      assert.match(
        t.warnings[0]!,
        /poll failed \(retried in 0.2 s\): git ls-remote .* does not appear to be a git repository/,
      );
      renameSync(hidden, up.repo);
      const c = up.commit('while it was away');
      await waitFor(() => t.changes.length === 1, 10_000, 'the change once the remote is back');
      assert.deepEqual(summary(t.changes), [['main', c, 'while it was away']]);
    } finally {
      await t.poller.stop();
    }
  });

  it('never logs the credentials of a remote URL', async () => {
    const t = poller({ repourl: 'http://alice:hunter2@127.0.0.1:9/repo.git', branches: true });
    assert.equal(t.poller.name, 'GitPoller:http://***@127.0.0.1:9/repo.git');
    await assert.rejects(t.poller.poll(), (err: Error) => {
      assert.doesNotMatch(err.message, /hunter2/);
      assert.match(err.message, /\*\*\*@127\.0\.0\.1/);
      return true;
    });
  });
});
