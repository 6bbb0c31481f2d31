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
// on a throwaway server (scripts/postgres-cluster.mjs). The data layer, the claim and
// numbering races, crash recovery, the steps end to end and a `lathe start` master killed
// with -9, chosen to keep the pass to a few minutes (master.test.js is mostly config
// reloading, which the database does not change); the query-plan and disk-full tests are
// SQLite's own. copy-db.test.js needs the server in the first pass already.
const POSTGRES_PASS = [
  'data.test.js',
  'data-api.test.js',
  'claims.test.js',
  'logs.test.js',
  'recovery.test.js',
  'steps-e2e.test.js',
  'master-restart.test.js',
  'multi-master.test.js',
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
      POSTGRES_PASS.filter(existsSync),
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
