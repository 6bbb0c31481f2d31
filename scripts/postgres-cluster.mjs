// A throwaway PostgreSQL cluster for the tests: initdb into a temporary directory, start
// it on a free TCP port on 127.0.0.1 with password (SCRAM) authentication, and stop and
// delete it afterwards. PostgreSQL refuses to run as root, so as root (CI) initdb and the
// server run as `nobody` (runuser), in a directory only that user writes.
//
//   node scripts/postgres-cluster.mjs -- <command…>   runs the command with LATHE_TEST_POSTGRES_URL set
//
// Used by scripts/run-tests.mjs for the PostgreSQL pass; the URL names the `postgres`
// database of a superuser `lathe`, and test/helpers.ts creates a fresh database per test.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's postgresql-15 puts its programs; LATHE_POSTGRES_BIN points elsewhere. */
export function postgresBinDir(env = process.env) {
  if (env.LATHE_POSTGRES_BIN) return env.LATHE_POSTGRES_BIN;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return join(base, '15', 'bin');
  const versions = readdirSync(base)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return join(base, versions.includes('15') ? '15' : (versions[0] ?? '15'), 'bin');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const NOBODY = { uid: 65534, gid: 65534 };

function run(argv, asNobody, what) {
  const cmd = asNobody ? ['runuser', '-u', 'nobody', '--', ...argv] : argv;
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', cwd: '/' });
  if (r.status !== 0) {
    throw new Error(
      `postgres-cluster: ${what} failed (${r.error?.message ?? `exit ${r.status}`}): ${cmd.join(' ')}\n${r.stdout}${r.stderr}`,
    );
  }
}

/**
 * Starts a cluster; returns its URL and `stop()`. The password is random per cluster and
 * lives only in the URL handed to the tests.
 */
export async function startCluster() {
  const bin = postgresBinDir();
  const asNobody = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'lathe-pg-'));
  const data = join(dir, 'data');
  const password = `t${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (asNobody) {
    chmodSync(dir, 0o700);
    chownSync(dir, NOBODY.uid, NOBODY.gid);
    chownSync(pwfile, NOBODY.uid, NOBODY.gid);
  }
  const port = await freePort();
  const stop = () => {
    if (existsSync(join(data, 'postmaster.pid'))) {
      spawnSync(asNobody ? 'runuser' : join(bin, 'pg_ctl'), [
        ...(asNobody ? ['-u', 'nobody', '--', join(bin, 'pg_ctl')] : []),
        '-D',
        data,
        '-m',
        'immediate',
        'stop',
      ]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // --no-locale: byte-order text comparison, as SQLite's; -N: a test cluster needs no fsync.
    run(
      [
        join(bin, 'initdb'),
        '-D',
        data,
        '--no-locale',
        '-E',
        'UTF8',
        '-N',
        '-U',
        'lathe',
        '-A',
        'scram-sha-256',
        `--pwfile=${pwfile}`,
      ],
      asNobody,
      'initdb',
    );
    rmSync(pwfile);
    const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -F -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    run(
      [
        join(bin, 'pg_ctl'),
        '-D',
        data,
        '-o',
        options,
        '-l',
        join(dir, 'server.log'),
        '-w',
        '-t',
        '60',
        'start',
      ],
      asNobody,
      'pg_ctl start',
    );
  } catch (err) {
    stop();
    throw err;
  }
  return { url: `postgres://lathe:${password}@127.0.0.1:${port}/postgres`, dir, stop };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sep = process.argv.indexOf('--');
  const command = sep === -1 ? [] : process.argv.slice(sep + 1);
  if (command.length === 0) {
    console.error('usage: node scripts/postgres-cluster.mjs -- <command…>');
    process.exit(2);
  }
  const cluster = await startCluster();
  process.once('exit', () => cluster.stop());
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(1));
  let status = 1;
  try {
    const r = spawnSync(command[0], command.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, LATHE_TEST_POSTGRES_URL: cluster.url },
    });
    status = r.status ?? 1;
  } finally {
    cluster.stop();
  }
  process.exit(status);
}
