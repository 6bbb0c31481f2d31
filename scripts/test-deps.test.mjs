// The CI gate of scripts/run-tests.mjs: with probes that simulate a machine without some
// packages, the check must fail in CI and name what is missing and how to install it, and
// only warn elsewhere. The last test runs the real script with a PATH that hides git,
// make and gcc.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { checkTestDeps, inCi, missingTestDeps, TEST_DEPS } from './test-deps.mjs';

/** A machine where only the listed files are executable and Python imports only `modules`. */
function machine(files, modules = []) {
  return {
    executable: (f) => files.includes(f),
    pythonImports: (m) => modules.includes(m),
  };
}

const EVERYTHING = machine(
  ['/usr/bin/buildbot', '/usr/bin/buildbot-worker', '/usr/bin/twistd3', '/bin/git', '/bin/make', '/bin/gcc'],
  ['twisted'],
);

describe('test dependency check', () => {
  it('finds nothing missing on a complete machine, in or out of CI, and prints nothing', () => {
    assert.deepEqual(missingTestDeps({ PATH: '/bin' }, EVERYTHING), []);
    assert.deepEqual(checkTestDeps({ PATH: '/bin', CI: 'true' }, EVERYTHING), { ok: true, message: null });
    assert.deepEqual(checkTestDeps({ PATH: '/bin' }, EVERYTHING), { ok: true, message: null });
  });

  it('looks commands up on PATH and the Buildbot programs at their Debian paths', () => {
    const missing = missingTestDeps({ PATH: '/nowhere:/also-not' }, EVERYTHING).map((d) => d.name);
    assert.deepEqual(missing, ['git', 'make', 'gcc']);
    // Another directory on PATH does not stand in for /usr/bin/buildbot-worker.
    const noWorker = machine(
      [
        '/usr/bin/buildbot',
        '/usr/bin/twistd3',
        '/bin/git',
        '/bin/make',
        '/bin/gcc',
        '/opt/bin/buildbot-worker',
      ],
      ['twisted'],
    );
    assert.deepEqual(
      missingTestDeps({ PATH: '/opt/bin:/bin' }, noWorker).map((d) => d.name),
      ['/usr/bin/buildbot-worker'],
    );
  });

  it('refuses in CI, naming each missing dependency and how to install it', () => {
    const bare = machine(['/bin/git']);
    const r = checkTestDeps({ PATH: '/bin', CI: 'true' }, bare);
    assert.equal(r.ok, false);
    for (const name of [
      '/usr/bin/buildbot',
      '/usr/bin/buildbot-worker',
      '/usr/bin/twistd3',
      "Twisted for /usr/bin/python3 ('import twisted')",
      'make',
      'gcc',
    ])
      assert.ok(r.message.includes(`  - ${name} (Debian package `), `${name} listed in:\n${r.message}`);
    assert.doesNotMatch(r.message, /- git /, 'git is there');
    assert.match(r.message, /\.\/dev test \(it runs scripts\/install-test-deps\.sh\)/);
    assert.match(
      r.message,
      /apt-get install -y --no-install-recommends buildbot buildbot-worker python3-twisted make gcc$/,
    );
  });

  it('only warns, on one line, outside CI (also with CI=false)', () => {
    const noTwisted = machine([
      '/usr/bin/buildbot',
      '/usr/bin/buildbot-worker',
      '/usr/bin/twistd3',
      '/bin/git',
      '/bin/make',
      '/bin/gcc',
    ]);
    for (const env of [{ PATH: '/bin' }, { PATH: '/bin', CI: 'false' }, { PATH: '/bin', CI: '' }]) {
      const r = checkTestDeps(env, noTwisted);
      assert.equal(r.ok, true);
      assert.equal(r.message.split('\n').length, 1);
      assert.match(
        r.message,
        /^lathe: warning: .*skipped: Twisted for \/usr\/bin\/python3 \('import twisted'\) \(/,
      );
    }
    assert.equal(inCi({ CI: '1' }), true);
    assert.equal(inCi({}), false);
  });

  it('lists every dependency once per package in the install hint, each with a package', () => {
    for (const d of TEST_DEPS) assert.ok(d.pkg && d.name);
    const r = checkTestDeps({ PATH: '', CI: 'true' }, machine([]));
    assert.match(r.message, /--no-install-recommends buildbot buildbot-worker python3-twisted git make gcc$/);
  });

  it('refuses in CI when not root (the disk-full test mounts a tmpfs), and only warns elsewhere', () => {
    const notRoot = { ...EVERYTHING, isRoot: () => false };
    const ci = checkTestDeps({ PATH: '/bin', CI: 'true' }, notRoot);
    assert.equal(ci.ok, false);
    assert.match(
      ci.message,
      /^lathe: CI is set and the tests do not run as root, so .*disk-full\.test\.ts would skip/,
    );
    const dev = checkTestDeps({ PATH: '/bin' }, notRoot);
    assert.equal(dev.ok, true);
    assert.match(dev.message, /^lathe: warning: not root, so .*disk-full\.test\.ts is skipped/);
    assert.deepEqual(checkTestDeps({ PATH: '/bin', CI: 'true' }, { ...EVERYTHING, isRoot: () => true }), {
      ok: true,
      message: null,
    });
  });

  it('stops scripts/run-tests.mjs before any test when CI is set and PATH hides git, make and gcc', () => {
    const script = new URL('./run-tests.mjs', import.meta.url).pathname;
    // An empty PATH: the script itself needs none (it runs tests with its own node binary).
    const r = spawnSync(process.execPath, [script], {
      env: { PATH: '/nonexistent', CI: 'true' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^lathe: CI is set/m);
    for (const name of ['git', 'make', 'gcc'])
      assert.match(r.stderr, new RegExp(`^  - ${name} \\(Debian package ${name}\\)$`, 'm'));
    assert.doesNotMatch(r.stdout, /###/, 'no test run started');
  });
});
