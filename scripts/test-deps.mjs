// The real protocol peers and tools the end-to-end tests run against. Those suites skip
// themselves when these are missing, which is right on a developer's machine but would let
// CI pass without ever talking to a real Buildbot or Twisted: so in CI a missing one is an
// error, elsewhere one warning line.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * What the tests need, and the Debian package that provides each (the ones
 * scripts/install-test-deps.sh installs). `path` is absolute where the tests use that
 * exact file, else a command looked up on PATH; `python` is a module Debian's Python
 * must import.
 */
export const TEST_DEPS = [
  { name: '/usr/bin/buildbot', path: '/usr/bin/buildbot', pkg: 'buildbot' },
  { name: '/usr/bin/buildbot-worker', path: '/usr/bin/buildbot-worker', pkg: 'buildbot-worker' },
  // The stock worker runs under twistd3 (test/bbworker.ts); the PB interop tests import twisted.
  { name: '/usr/bin/twistd3', path: '/usr/bin/twistd3', pkg: 'python3-twisted' },
  { name: "Twisted for /usr/bin/python3 ('import twisted')", python: 'twisted', pkg: 'python3-twisted' },
  { name: 'git', path: 'git', pkg: 'git' },
  { name: 'make', path: 'make', pkg: 'make' },
  { name: 'gcc', path: 'gcc', pkg: 'gcc' },
];

const PYTHON = '/usr/bin/python3';

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Default probes; tests pass their own to simulate a machine without the packages. */
export const systemProbes = {
  executable,
  isRoot: () => process.getuid?.() === 0,
  pythonImports: (module) =>
    spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore', timeout: 30_000 }).status === 0,
};

/** The entries of TEST_DEPS not available with `env`'s PATH. */
export function missingTestDeps(env = process.env, probes = systemProbes) {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  return TEST_DEPS.filter((dep) => {
    if (dep.python) return !probes.pythonImports(dep.python);
    if (dep.path.startsWith('/')) return !probes.executable(dep.path);
    return !dirs.some((d) => probes.executable(join(d, dep.path)));
  });
}

/** CI services set CI (GitHub Actions, GitLab: "true"); "false" or "0" opts out explicitly. */
export function inCi(env = process.env) {
  return env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
}

/** The test that needs root: it mounts a small tmpfs to fill the master's disk. */
export const ROOT_TEST = 'packages/master/test/disk-full.test.ts';

/**
 * Whether the tests may run, and what to print: in CI every dependency must be there and
 * the tests must run as root; elsewhere a missing one only gets a warning, and its tests skip.
 */
export function checkTestDeps(env = process.env, probes = systemProbes) {
  const packages = checkTestPackages(env, probes);
  if (probes.isRoot?.() ?? true) return packages;
  const line = inCi(env)
    ? `lathe: CI is set and the tests do not run as root, so ${ROOT_TEST} would skip itself; run them as root.`
    : `lathe: warning: not root, so ${ROOT_TEST} is skipped (it mounts a tmpfs).`;
  return { ok: packages.ok && !inCi(env), message: [packages.message, line].filter(Boolean).join('\n') };
}

function checkTestPackages(env, probes) {
  const missing = missingTestDeps(env, probes);
  if (missing.length === 0) return { ok: true, message: null };
  const pkgs = [...new Set(missing.map((d) => d.pkg))].join(' ');
  if (!inCi(env))
    return {
      ok: true,
      message:
        `lathe: warning: not installed, so the tests that need them are skipped: ${missing.map((d) => d.name).join(', ')} ` +
        `(./dev test installs them: Debian packages ${pkgs})`,
    };
  return {
    ok: false,
    message: [
      'lathe: CI is set and the test suite cannot run its real protocol peers and tools; their tests',
      'would skip themselves and CI would pass without them. Missing:',
      ...missing.map((d) => `  - ${d.name} (Debian package ${d.pkg})`),
      'Install them with ./dev test (it runs scripts/install-test-deps.sh), or directly:',
      `  sudo apt-get install -y --no-install-recommends ${pkgs}`,
    ].join('\n'),
  };
}
