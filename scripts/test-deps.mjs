// The real protocol peers, tools, the system Node and the built worker the tests run
// against. The tests that need one skip themselves when it is missing, which is right on a
// developer's machine but would let CI pass without ever talking to a real Buildbot or
// Twisted: so in CI a missing one is an error, elsewhere one warning line naming it.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { postgresBinDir } from './postgres-cluster.mjs';

const ROOT = join(import.meta.dirname, '..');

/**
 * What the tests need, why, and how to get it: a Debian package (`pkg`, what
 * scripts/install-test-deps.sh installs) or a build step (`build`). `path` is a program,
 * absolute where the tests use that exact file, else looked up on PATH; `file` must exist;
 * `python` is a module Debian's Python must import.
 */
export function testDeps(env = process.env) {
  const systemNode = env.LATHE_SYSTEM_NODE || '/usr/bin/node';
  const stockWorker = 'the end-to-end tests with a stock buildbot-worker';
  return [
    {
      name: '/usr/bin/buildbot',
      path: '/usr/bin/buildbot',
      pkg: 'buildbot',
      usedBy: 'the tests against a stock Buildbot master',
    },
    {
      name: '/usr/bin/buildbot-worker',
      path: '/usr/bin/buildbot-worker',
      pkg: 'buildbot-worker',
      usedBy: stockWorker,
    },
    // The stock worker runs under twistd3 (test/bbworker.ts).
    { name: '/usr/bin/twistd3', path: '/usr/bin/twistd3', pkg: 'python3-twisted', usedBy: stockWorker },
    {
      name: "Twisted for /usr/bin/python3 ('import twisted')",
      python: 'twisted',
      pkg: 'python3-twisted',
      usedBy: 'the PB interop tests against Twisted',
    },
    { name: 'git', path: 'git', pkg: 'git', usedBy: 'the Git step and the end-to-end builds' },
    { name: 'make', path: 'make', pkg: 'make', usedBy: 'the end-to-end builds of a C project' },
    { name: 'gcc', path: 'gcc', pkg: 'gcc', usedBy: 'the end-to-end builds of a C project' },
    // The build-system test parsers read real output of these (test/logparsers.test.ts).
    { name: 'autoreconf', path: 'autoreconf', pkg: 'automake', usedBy: 'the automake test parser' },
    { name: 'ctest', path: 'ctest', pkg: 'cmake', usedBy: 'the CTest test parser' },
    { name: 'cargo', path: 'cargo', pkg: 'cargo', usedBy: 'the cargo test parser' },
    {
      name: '/usr/bin/chromium (LATHE_CHROMIUM)',
      path: env.LATHE_CHROMIUM || '/usr/bin/chromium',
      pkg: 'chromium',
      usedBy: 'the web UI tests in a real browser (playwright-core drives it)',
    },
    {
      name: `PostgreSQL's initdb (${join(postgresBinDir(env), 'initdb')}, LATHE_POSTGRES_BIN)`,
      path: join(postgresBinDir(env), 'initdb'),
      pkg: 'postgresql',
      usedBy: 'the PostgreSQL pass: data layer, claims, copy-db and end-to-end tests on a throwaway server',
    },
    {
      name: '/usr/bin/podman',
      path: '/usr/bin/podman',
      pkg: 'podman',
      usedBy: 'the container latent worker test (Podman serves the Docker Engine API; test/podman-engine.ts)',
    },
    {
      name: '/usr/sbin/ngircd',
      path: '/usr/sbin/ngircd',
      pkg: 'ngircd',
      usedBy: 'the IRC bot tests against a real IRC server',
    },
    {
      name: 'openssl',
      path: 'openssl',
      pkg: 'openssl',
      usedBy:
        "the worker's TLS tests, the mail reporter's STARTTLS tests and the HTTP push reporter's mutual TLS test (they make certificates)",
    },
    {
      name: `Node 20 at ${systemNode} (LATHE_SYSTEM_NODE)`,
      path: systemNode,
      nodeMajor: 20,
      // Debian 13's nodejs is 20; Debian 12's is 18 (NodeSource's nodejs 20 serves there).
      pkg: 'nodejs',
      usedBy: 'the second run of the pb, daemon and worker tests, on the Node 20 they promise to support',
    },
    {
      name: 'packages/worker/dist/src/cli.js',
      file: join(ROOT, 'packages', 'worker', 'dist', 'src', 'cli.js'),
      build: 'npm run build',
      usedBy: "the end-to-end tests with Lathe's worker",
    },
  ];
}

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
  exists: existsSync,
  isRoot: () => process.getuid?.() === 0,
  pythonImports: (module) =>
    spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore', timeout: 30_000 }).status === 0,
  /** `process.version` of the node binary `file`, or null. */
  nodeVersion: (file) => {
    const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    return r.status === 0 ? r.stdout.trim() : null;
  },
};

/** The entries of testDeps(env) not available with `env`'s PATH. */
export function missingTestDeps(env = process.env, probes = systemProbes) {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  return testDeps(env).filter((dep) => {
    if (dep.python) return !probes.pythonImports(dep.python);
    if (dep.file) return !probes.exists(dep.file);
    if (dep.nodeMajor)
      return !probes.executable(dep.path) || !probes.nodeVersion(dep.path)?.startsWith(`v${dep.nodeMajor}.`);
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
  const pkgs = [...new Set(missing.filter((d) => d.pkg).map((d) => d.pkg))].join(' ');
  const builds = [...new Set(missing.filter((d) => d.build).map((d) => d.build))];
  const how = [...(pkgs ? [`Debian packages ${pkgs}`] : []), ...builds.map((b) => `${b} in ${ROOT}`)].join(
    '; ',
  );
  if (!inCi(env))
    return {
      ok: true,
      message:
        `lathe: warning: not available, so the tests that need them are skipped: ${missing.map((d) => d.name).join(', ')} ` +
        `(${pkgs ? './dev test installs ' : ''}${how})`,
    };
  return {
    ok: false,
    message: [
      'lathe: CI is set and the test suite cannot run its real protocol peers and tools; their tests',
      'would skip themselves and CI would pass without them. Missing:',
      ...missing.map(
        (d) => `  - ${d.name} (${d.pkg ? `Debian package ${d.pkg}` : `made by ${d.build}`}), for ${d.usedBy}`,
      ),
      ...(pkgs
        ? [
            'Install them with ./dev test (it runs scripts/install-test-deps.sh), or directly:',
            `  sudo apt-get install -y --no-install-recommends ${pkgs}`,
          ]
        : []),
      ...builds.map((b) => `Build first: ${b} (npm test does)`),
    ].join('\n'),
  };
}
