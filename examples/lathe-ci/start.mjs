// Starts the reference installation: a master that polls this repository and a local Lathe
// worker that runs its tests on every commit. `./dev example lathe-ci [options] [dir]`
// (README.md beside this file); run again, it starts what is not running.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const here = import.meta.dirname;
const root = resolve(here, '..', '..');
const LATHE = join(root, 'packages', 'master', 'bin', 'lathe.js');
const LATHE_WORKER = join(root, 'packages', 'worker', 'dist', 'src', 'cli.js');
const WORKER = 'lathe-ci-worker';

const help = `Usage: ./dev example lathe-ci [options] [dir]

Creates (unless it exists) and starts a master in dir (default ./lathe-ci) that polls a
git repository and runs its tests on every new commit, with a local Lathe worker in dir/worker.

Options:
  --repo <path>         the repository to poll (default: this one, ${root})
  --branch <name>       the branch to build (default: the repository's current branch)
  --worker-port <port>  port the worker connects to (default 9990)
  --poll <seconds>      time between polls (default 60)
  --test <json>         the test command as a JSON array (default ["./dev","npm","test"])
  -h, --help            show this help

Options other than dir apply when the master is created; afterwards edit dir/lathe-ci.json
and run: lathe reconfig dir
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    repo: { type: 'string' },
    branch: { type: 'string' },
    'worker-port': { type: 'string', default: '9990' },
    poll: { type: 'string', default: '60' },
    test: { type: 'string', default: '["./dev","npm","test"]' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(help);
  process.exit(0);
}
if (positionals.length > 1) fail(`at most one directory, got ${positionals.length}`);
const dir = resolve(positionals[0] ?? 'lathe-ci');

function fail(message) {
  process.stderr.write(`lathe-ci: ${message}\n\n${help}`);
  process.exit(2);
}

/**
 * Runs one of Lathe's commands. With `quiet` its output is shown only when it fails: the
 * advice create-master and lathe-worker create end with is what this script does next.
 */
function run(script, args, quiet = false) {
  const r = spawnSync(process.execPath, [script, ...args], {
    stdio: ['ignore', quiet ? 'pipe' : 'inherit', 'inherit'],
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    if (quiet) process.stdout.write(r.stdout);
    process.stderr.write(`lathe-ci: ${script} ${args[0]} failed (exit ${r.status})\n`);
    process.exit(1);
  }
}

function positiveInteger(value, option) {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    fail(`${option} needs a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function testCommand(json) {
  let argv;
  try {
    argv = JSON.parse(json);
  } catch {
    fail(`--test needs a JSON array of strings, got ${json}`);
  }
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string'))
    fail(`--test needs a non-empty JSON array of strings, got ${json}`);
  return argv;
}

if (!existsSync(join(dir, 'lathe-ci.json'))) {
  const repository = resolve(values.repo ?? root);
  if (!existsSync(join(repository, '.git'))) fail(`${repository} is not a git repository`);
  const branch =
    values.branch ??
    execFileSync('git', ['-C', repository, 'symbolic-ref', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const workerPort = positiveInteger(values['worker-port'], '--worker-port');
  const settings = {
    repository,
    branch,
    workerPort,
    // Hex: a password starting with '-' would read as an option on lathe-worker's command line.
    workerPassword: randomBytes(12).toString('hex'),
    pollInterval: positiveInteger(values.poll, '--poll'),
    test: testCommand(values.test),
  };
  run(LATHE, ['create-master', '--worker-port', String(workerPort), '--worker-name', WORKER, dir], true);
  // This config replaces the sample one and builds no sample project.
  rmSync(join(dir, 'sample-project'), { recursive: true, force: true });
  copyFileSync(join(here, 'master.config.ts'), join(dir, 'master.config.ts'));
  writeFileSync(join(dir, 'lathe-ci.json'), `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  run(LATHE, ['checkconfig', dir]);
  run(
    LATHE_WORKER,
    ['create', '--', join(dir, 'worker'), `127.0.0.1:${workerPort}`, WORKER, settings.workerPassword],
    true,
  );
  process.stdout.write(`created the lathe-ci master in ${dir}, polling ${repository} (${branch})\n`);
}

/** Whether the daemon whose pid file this is runs (a stale file after a crash says no). */
function isRunning(pidFile) {
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 0);
    return true;
  } catch {
    return false;
  }
}

if (!isRunning(join(dir, 'lathe.pid'))) run(LATHE, ['start', dir]);
if (!isRunning(join(dir, 'worker', 'worker.pid'))) run(LATHE_WORKER, ['start', join(dir, 'worker')]);

const shown = relative(process.cwd(), dir) || '.';
process.stdout.write(`Lathe CI is running: each new commit on the polled branch is built and tested.
  ./dev npx lathe status ${shown}
  ./dev npx lathe stop ${shown} && ./dev npx lathe-worker stop ${join(shown, 'worker')}
`);
