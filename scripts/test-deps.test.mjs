// The CI gate of scripts/run-tests.mjs: with probes that simulate a machine without some
// of what the tests need, the check must fail in CI and name what is missing, why, and how
// to get it, and only warn elsewhere. The last test runs the real script with a PATH that
// hides git, make, gcc and openssl.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { postgresBinDir } from './postgres-cluster.mjs';
import { checkTestDeps, inCi, missingTestDeps, testDeps } from './test-deps.mjs';

const BUILT_WORKER = join(import.meta.dirname, '..', 'packages', 'worker', 'dist', 'src', 'cli.js');
const DEBIAN = [
  '/usr/bin/buildbot',
  '/usr/bin/buildbot-worker',
  '/usr/bin/twistd3',
  '/usr/bin/node',
  '/usr/bin/chromium',
  join(postgresBinDir(), 'initdb'),
  '/usr/bin/podman',
  '/usr/sbin/ngircd',
];
const TOOLS = [
  '/bin/git',
  '/bin/make',
  '/bin/gcc',
  '/bin/autoreconf',
  '/bin/ctest',
  '/bin/cargo',
  '/bin/openssl',
];

/** A machine where only the listed files are executable and Python imports only `modules`. */
function machine(files, modules = [], nodeVersion = 'v20.19.2') {
  return {
    executable: (f) => files.includes(f),
    exists: (f) => files.includes(f),
    pythonImports: (m) => modules.includes(m),
    nodeVersion: (f) => (files.includes(f) ? nodeVersion : null),
  };
}

const EVERYTHING = machine([...DEBIAN, ...TOOLS, BUILT_WORKER], ['twisted']);
const without = (...gone) =>
  machine(
    [...DEBIAN, ...TOOLS, BUILT_WORKER].filter((f) => !gone.includes(f)),
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
    assert.deepEqual(missing, ['git', 'make', 'gcc', 'autoreconf', 'ctest', 'cargo', 'openssl']);
    // Another directory on PATH does not stand in for /usr/bin/buildbot-worker.
    const noWorker = machine(
      [...DEBIAN, ...TOOLS, BUILT_WORKER, '/opt/bin/buildbot-worker'].filter(
        (f) => f !== '/usr/bin/buildbot-worker',
      ),
      ['twisted'],
    );
    assert.deepEqual(
      missingTestDeps({ PATH: '/opt/bin:/bin' }, noWorker).map((d) => d.name),
      ['/usr/bin/buildbot-worker'],
    );
  });

  it('refuses in CI, naming each missing dependency, what needs it and how to install it', () => {
    const bare = machine(['/bin/git']);
    const r = checkTestDeps({ PATH: '/bin', CI: 'true' }, bare);
    assert.equal(r.ok, false);
    for (const [name, from] of [
      ['/usr/bin/buildbot', 'Debian package buildbot'],
      ['/usr/bin/buildbot-worker', 'Debian package buildbot-worker'],
      ['/usr/bin/twistd3', 'Debian package python3-twisted'],
      ["Twisted for /usr/bin/python3 ('import twisted')", 'Debian package python3-twisted'],
      ['make', 'Debian package make'],
      ['gcc', 'Debian package gcc'],
      ['openssl', 'Debian package openssl'],
      ['/usr/sbin/ngircd', 'Debian package ngircd'],
      ['Node 20 at /usr/bin/node (LATHE_SYSTEM_NODE)', 'Debian package nodejs'],
      ['packages/worker/dist/src/cli.js', 'made by npm run build'],
    ])
      assert.ok(r.message.includes(`  - ${name} (${from}), for `), `${name} listed in:\n${r.message}`);
    assert.match(r.message, /openssl \(Debian package openssl\), for the worker's TLS tests/);
    assert.match(
      r.message,
      /\(LATHE_SYSTEM_NODE\) .*, for the second run of the pb, daemon and worker tests, on the Node 20/,
    );
    assert.match(
      r.message,
      /cli\.js \(made by npm run build\), for the end-to-end tests with Lathe's worker/,
    );
    assert.doesNotMatch(r.message, /- git /, 'git is there');
    assert.match(r.message, /\.\/dev test \(it runs scripts\/install-test-deps\.sh\)/);
    assert.match(
      r.message,
      /apt-get install -y --no-install-recommends buildbot buildbot-worker python3-twisted make gcc automake cmake cargo chromium postgresql podman ngircd openssl nodejs\nBuild first: npm run build/,
    );
  });

  it('checks that the system Node LATHE_SYSTEM_NODE names is there and is Node 20', () => {
    const env = { PATH: '/bin', CI: 'true', LATHE_SYSTEM_NODE: '/opt/node20/bin/node' };
    const r = checkTestDeps(env, EVERYTHING);
    assert.equal(r.ok, false);
    assert.match(
      r.message,
      /^ {2}- Node 20 at \/opt\/node20\/bin\/node \(LATHE_SYSTEM_NODE\) \(Debian package nodejs\)/m,
    );
    assert.equal(checkTestDeps({ PATH: '/bin', CI: 'true' }, without('/usr/bin/node')).ok, false);
    // Debian 12's nodejs is 18: not the Node 20 that the second run is for.
    const node18 = machine([...DEBIAN, ...TOOLS, BUILT_WORKER], ['twisted'], 'v18.20.4');
    assert.deepEqual(
      missingTestDeps({ PATH: '/bin' }, node18).map((d) => d.name),
      ['Node 20 at /usr/bin/node (LATHE_SYSTEM_NODE)'],
    );
  });

  it('only warns, on one line naming what is skipped, outside CI (also with CI=false)', () => {
    const noTwisted = machine([...DEBIAN, ...TOOLS, BUILT_WORKER]);
    for (const env of [{ PATH: '/bin' }, { PATH: '/bin', CI: 'false' }, { PATH: '/bin', CI: '' }]) {
      const r = checkTestDeps(env, noTwisted);
      assert.equal(r.ok, true);
      assert.equal(r.message.split('\n').length, 1);
      assert.match(
        r.message,
        /^lathe: warning: .*skipped: Twisted for \/usr\/bin\/python3 \('import twisted'\) \(\.\/dev test installs Debian packages python3-twisted\)$/,
      );
    }
    const unbuilt = checkTestDeps({ PATH: '/bin' }, without(BUILT_WORKER, '/bin/openssl'));
    assert.match(
      unbuilt.message,
      /skipped: openssl, packages\/worker\/dist\/src\/cli\.js \(.*openssl; npm run build in /,
    );
    assert.equal(inCi({ CI: '1' }), true);
    assert.equal(inCi({}), false);
  });

  it('gives every dependency a reason and a way to get it, each package once in the install hint', () => {
    for (const d of testDeps()) assert.ok(d.name && d.usedBy && (d.pkg || d.build), d.name);
    const r = checkTestDeps({ PATH: '', CI: 'true' }, machine([]));
    assert.match(
      r.message,
      /--no-install-recommends buildbot buildbot-worker python3-twisted git make gcc automake cmake cargo chromium postgresql podman ngircd openssl nodejs\n/,
    );
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

  it('stops scripts/run-tests.mjs before any test when CI is set and PATH hides git, make, gcc and openssl', () => {
    const script = new URL('./run-tests.mjs', import.meta.url).pathname;
    // An empty PATH: the script itself needs none (it runs tests with its own node binary).
    const r = spawnSync(process.execPath, [script], {
      env: { PATH: '/nonexistent', CI: 'true' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^lathe: CI is set/m);
    for (const name of ['git', 'make', 'gcc', 'openssl'])
      assert.match(r.stderr, new RegExp(`^  - ${name} \\(Debian package ${name}\\), for `, 'm'));
    assert.doesNotMatch(r.stdout, /###/, 'no test run started');
  });
});
