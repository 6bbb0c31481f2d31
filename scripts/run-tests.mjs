// Runs every compiled test file (and the scripts' own tests) with node:test. Tests of
// packages that promise to run on Node 20 (@lathe/pb, @lathe/daemon, @lathe/worker) run a
// second time on the system Node (LATHE_SYSTEM_NODE). In CI it first refuses to run
// without the real protocol peers, tools, that Node and the built worker
// (scripts/test-deps.mjs), whose tests would otherwise skip and let CI pass; elsewhere it
// names what will be skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { postgresBinDir, startCluster } from './postgres-cluster.mjs';
import { checkTestDeps, inCi } from './test-deps.mjs';

const root = new URL('..', import.meta.url).pathname;
const extra = process.argv.slice(2);

const deps = checkTestDeps();
if (deps.message) console.error(deps.message);
if (!deps.ok) process.exit(1);

function testFiles(pkg) {
  const dir = join(root, 'packages', pkg, 'dist', 'test');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .filter((f) => String(f).endsWith('.test.js'))
    .map((f) => join(dir, String(f)))
    .sort();
}

const scriptTests = readdirSync(join(root, 'scripts'))
  .filter((f) => f.endsWith('.test.mjs'))
  .map((f) => join(root, 'scripts', f));
const all = [...['pb', 'daemon', 'worker', 'master', 'www'].flatMap(testFiles), ...scriptTests];
const node20 = ['pb', 'daemon', 'worker'].flatMap(testFiles).filter((f) => !f.includes('.node24.'));

function run(nodeBin, files, label) {
  if (files.length === 0) return 0;
  console.log(`\n### ${label}: ${files.length} test files on ${nodeBin}`);
  // A hung test must fail its file, not stall CI until its 90-minute limit: tests and
  // suites without a timeout of their own get 15 minutes.
  const args = ['--test', '--test-concurrency=2', '--test-timeout=900000', ...extra, ...files];
  const r = spawnSync(nodeBin, args, {
    stdio: 'inherit',
    cwd: root,
  });
  return r.status ?? 1;
}

// The PostgreSQL pass: these files again with LATHE_TEST_DB=postgres, each test's database
// on a throwaway server (scripts/postgres-cluster.mjs): the master test files that open a
// master's database, directly (test/helpers.ts openData), through a master started in-process
// (helpers.startMaster) or with `lathe start` (test-database.ts useTestDatabase); those where
// it is incidental only with LATHE_TEST_POSTGRES_PASS=all (POSTGRES_PASS_ALL_ONLY). Left out:
// - no master database: bisect-plan, bus, change-hooks-config, config, git-poller, git-step,
//   irc-parts, latent-config, layout, locks, logparsers, postgres-schema (compiles the DDL
//   only), properties, python-regex, reporters-chat, reporters-commit-status, reporters-push,
//   results, service, step-logs, transfer-objects, untrusted-input, upload-extraction;
// - SQLite's own: db (the SQLite connection), query-plans, api-query-plans, metrics, blame
//   and startup (SQLite's EXPLAIN QUERY PLAN), disk-full (SQLite on a full disk);
//   copy-db.test.js needs the server in the first pass already;
// - the `lathe` command's text and processes, where the database is the template's SQLite
//   file and nothing of it is checked: cli, cli-foreground, cli-quickstart, flood,
//   lathe-ci-example, and install (the worker's packaging);
// - master-longrun: the heap over 4000 instant builds, minutes of round trips on PostgreSQL
//   (and the records it checks are the master's, not the database's);
// - the web UI in a browser (www-ui, www-views): the data API under it runs here in
//   data-api, api-realtime and www-tests.
const POSTGRES_PASS = [
  'annotations.test.js',
  'api-auth-access.test.js',
  'api-auth-oidc.test.js',
  'api-auth.test.js',
  'api-changes-builds.test.js',
  'api-openapi.test.js',
  'api-realtime.test.js',
  'bisect-e2e.test.js',
  'change-hooks-crash.test.js',
  'change-hooks.test.js',
  'changes-e2e.test.js',
  'changes.test.js',
  'claims.test.js',
  'cli-force-scheduler.test.js',
  'cluster.test.js',
  'commands.test.js',
  'data-api.test.js',
  'data.test.js',
  'distributor.test.js',
  'eta.test.js',
  'killed-worker-output.test.js',
  'latent-command.test.js',
  'locks-e2e.test.js',
  'log-sections.test.js',
  'logs.test.js',
  'master-restart.test.js',
  'master.test.js',
  'multi-master.test.js',
  'old-build-canceller.test.js',
  'recovery.test.js',
  'reporters-channels.test.js',
  'reporters-config.test.js',
  'reporters-crash.test.js',
  'reporters-formatters.test.js',
  'reporters-generators.test.js',
  'reporters-latent-missing.test.js',
  'reporters-mail.test.js',
  'scheduler-config.test.js',
  'scheduler-restarts-e2e.test.js',
  'schedulers-e2e.test.js',
  'steps-e2e.test.js',
  'test-history.test.js',
  'timed-schedulers.test.js',
  'try-jobs.test.js',
  'upload-leftovers.test.js',
  'wait-request.test.js',
  'warning-steps.test.js',
  'worker-port.test.js',
  'www-tests.test.js',
];
// These too open a master's database, but it is incidental to what they test (the `lathe`
// command's processes, config loading, steps on real workers, try end to end): they would make
// the pass about twice as long, past CI's time budget, so they run on PostgreSQL only with
// LATHE_TEST_POSTGRES_PASS=all (all of them passed there on 2026-12-05).
const POSTGRES_PASS_ALL_ONLY = [
  'buildbot-worker.test.js',
  'cli-api-reads.test.js',
  'cli-daemon.test.js',
  'cli-worker.test.js',
  'config-isolation.test.js',
  'control.test.js',
  'hostile-worker.test.js',
  'irc-bot.test.js',
  'irc-config.test.js',
  'latent-docker.test.js',
  'step-options.test.js',
  'steps-git.test.js',
  'try-e2e.test.js',
];
const postgresPassFiles = [
  ...POSTGRES_PASS,
  ...(process.env.LATHE_TEST_POSTGRES_PASS === 'all' ? POSTGRES_PASS_ALL_ONLY : []),
].map((f) => join(root, 'packages', 'master', 'dist', 'test', f));

let cluster;
if (!process.env.LATHE_TEST_POSTGRES_URL && (inCi() || existsSync(join(postgresBinDir(), 'initdb')))) {
  cluster = await startCluster();
  process.env.LATHE_TEST_POSTGRES_URL = cluster.url;
  // stop() is synchronous, so it also runs from 'exit'; a signal arrives once the running
  // test process (spawnSync) has ended.
  process.once('exit', () => cluster.stop());
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(1));
}

function runPostgresPass() {
  if (!process.env.LATHE_TEST_POSTGRES_URL) {
    console.log('\n### PostgreSQL pass skipped: no PostgreSQL (Debian package postgresql)');
    return 0;
  }
  process.env.LATHE_TEST_DB = 'postgres';
  try {
    return run(
      process.execPath,
      postgresPassFiles.filter(existsSync),
      'the data layer and masters on PostgreSQL',
    );
  } finally {
    delete process.env.LATHE_TEST_DB;
  }
}

let status;
try {
  status = run(process.execPath, all, 'all packages');
  status = runPostgresPass() || status;
} finally {
  cluster?.stop();
}
// Missing, it was named above (and refused in CI).
const systemNode = process.env.LATHE_SYSTEM_NODE || '/usr/bin/node';
if (existsSync(systemNode)) {
  status = run(systemNode, node20, 'pb + daemon + worker on the system Node') || status;
}
process.exit(status);
