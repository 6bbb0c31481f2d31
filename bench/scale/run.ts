/**
 * Issue 14's scale benchmark, several masters on one database:
 *
 *   ./dev npm run build && ./dev node bench/scale/run.ts [--db sqlite|postgres]
 *       [--only builds|latency|kill|startup] [--masters 1,3] [--workers 12] [--changes 200]
 *       [--builders 4] [--samples 50] [--smoke]
 *
 * Every master is `lathe start --nodaemon`ed from its own directory with a generated config
 * (`cluster`, the shared `db.url`; masters.ts); `--db postgres` runs them on a fresh
 * database of a throwaway PostgreSQL server (scripts/postgres-cluster.mjs, Debian's
 * postgresql-15), `sqlite` on one file. Changes are sent by Twisted's PB
 * (bench/master/sendchange.py) to a master's PB change source; the single-branch scheduler
 * runs on whichever master holds its lease. The database is read from outside (every 50 ms
 * while waiting).
 *
 * - builds:  for each master count, the workers spread round-robin over the masters,
 *            `changes` changes × `builders` builders of one `true` step; builds/s from the
 *            first change sent to the last build complete, and the ratio to one master
 *            (target: three masters ≥ 2.5× one); with the machine's CPU time over that span
 *            (/proc/stat: every process, masters, workers, PostgreSQL and the sender) per build
 *            and in cores busy, which tell whether the masters or the machine set the pace.
 * - latency: three masters; the change goes to the first one's PB change source, the only
 *            worker is attached to the second: change → the step's command running on that
 *            worker (its `date +%s%N`), p50/p95 (target p50 ≤ 30 ms).
 * - kill:    three masters, the workers spread over them, builds of 20 log lines over ~1 s;
 *            half the changes sent, the master holding the scheduler `kill -9`ed while its
 *            builds run, the other half sent to another master. Reports duplicate
 *            buildsets, build records and stored log lines of the killed master that are
 *            gone, interrupted requests and how many reran to success, every request's
 *            result, and the scheduler's failover time (leases of 20 s, heartbeat 5 s;
 *            target ≤ 30 s).
 * - startup: 25,000 pending requests + 100,000 finished builds (bench/master's seed, copied
 *            with `lathe copy-db` for PostgreSQL); master start → worker port listening
 *            (bench/master/master-proc.ts; target < 2 s).
 *
 * Prints one JSON line per measurement. `--smoke` runs each with a handful of builds (a
 * check that it works, no figures).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openAndMigrate } from '../../packages/master/dist/src/db/connection.js';
import { RETRY } from '../../packages/master/dist/src/results.js';
import { seedHistory } from '../../packages/master/dist/test/seed-history.js';
import { ChangeSender, type SentChange } from '../master/change-sender.ts';
import {
  JsonLines,
  LATHE_INDEX,
  load,
  nodeScript,
  percentile,
  ROOT,
  removeDir,
  sleep,
  stopChild,
  tempDir,
  waitUntil,
} from '../master/common.ts';
import { type BenchDb, benchDbs, type Engine } from './bench-db.ts';
import { type BuilderSpec, Cluster } from './masters.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: 'sqlite' },
    only: { type: 'string' },
    masters: { type: 'string', default: '1,3' },
    workers: { type: 'string', default: '12' },
    changes: { type: 'string', default: '200' },
    builders: { type: 'string', default: '4' },
    samples: { type: 'string', default: '50' },
    smoke: { type: 'boolean', default: false },
  },
});
if (values.db !== 'sqlite' && values.db !== 'postgres') throw new Error('--db is sqlite or postgres');
const ENGINE = values.db as Engine;
const SMOKE = values.smoke;
const counts = values.masters.split(',').map(Number);
const WORKERS = SMOKE ? 3 : Number(values.workers);
const CHANGES = SMOKE ? 4 : Number(values.changes);
const BUILDERS = Number(values.builders);
const dbs = await benchDbs(ENGINE);

const report = (name: string, figures: Record<string, unknown>) =>
  console.log(
    `${name}: ${JSON.stringify({ db: ENGINE, ...figures, load: load(), ...(SMOKE ? { smoke: true } : {}) })}`,
  );
const round = (n: number, d = 1) => Number(n.toFixed(d));
const workerNames = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`);
const builderSpecs = (command: readonly string[], workers: readonly string[]): BuilderSpec[] =>
  Array.from({ length: BUILDERS }, (_, i) => ({ name: `b${i}`, command, workerNames: workers }));

/** Runs `body` on a fresh cluster and database; stops and removes them afterwards. */
async function withCluster<T>(
  label: string,
  spec: ConstructorParameters<typeof Cluster>[2],
  body: (cluster: Cluster, db: BenchDb) => Promise<T>,
): Promise<T> {
  const root = tempDir(`lathe-bench-scale-${label}-`);
  const db = await dbs.fresh(root, label);
  const cluster = new Cluster(root, db, spec);
  try {
    await cluster.start();
    return await body(cluster, db);
  } finally {
    await cluster.stop();
    await db.close();
    removeDir(root);
  }
}

const completed = (db: BenchDb) => db.number('SELECT count(*) AS n FROM buildrequests WHERE complete = 1');

/** The machine's CPU time so far, all cores (/proc/stat's first line), in ms. */
function machineCpu(): { busyMs: number; totalMs: number; cores: number } {
  const stat = readFileSync('/proc/stat', 'utf8');
  const ticks = stat.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = ticks[3]! + ticks[4]!;
  const hz = 100; // USER_HZ, the unit of /proc/stat on Linux
  const cores = stat.split('\n').filter((l) => /^cpu\d/.test(l)).length;
  return { busyMs: ((total - idle) * 1000) / hz, totalMs: (total * 1000) / hz / cores, cores };
}

// --- builds/s, one master against several ---

async function builds(): Promise<void> {
  const figures = new Map<number, number>();
  for (const n of counts) {
    const workers = workerNames(WORKERS);
    const r = await withCluster(
      `builds${n}`,
      { masters: n, workers, builders: builderSpecs(['true'], workers) },
      async (cluster, db) => {
        const sender = new ChangeSender(cluster.masters[0]!.port);
        try {
          const expected = CHANGES * BUILDERS;
          const cpu0 = machineCpu();
          const sent = await sender.send(CHANGES);
          const t0 = sent[0]!.connectAt;
          await waitUntil(async () => (await completed(db)) >= expected, 1_800_000, `${expected} builds`, 50);
          const seconds = (Date.now() - t0) / 1000;
          const cpu = machineCpu();
          const busyMs = cpu.busyMs - cpu0.busyMs;
          const coresBusy = round(busyMs / (cpu.totalMs - cpu0.totalMs), 2);
          const ok = await db.number('SELECT count(*) AS n FROM builds WHERE results = 0');
          if (ok !== expected) throw new Error(`${n} masters: ${ok} of ${expected} builds succeeded`);
          return {
            builds: expected,
            seconds: round(seconds, 2),
            buildsPerS: round(expected / seconds, 2),
            cpuMsPerBuild: round(busyMs / expected, 2),
            coresBusy,
          };
        } finally {
          await sender.stop();
        }
      },
    );
    figures.set(n, r.buildsPerS);
    const base = figures.get(1);
    report('builds', {
      masters: n,
      workers: WORKERS,
      ...r,
      ...(base && n !== 1 ? { vsOneMaster: round(r.buildsPerS / base, 2) } : {}),
      target: 'three masters >= 2.5x one',
    });
  }
}

// --- change on master A → first command of a worker attached to master B ---

async function latency(): Promise<void> {
  const samples = SMOKE ? 3 : Number(values.samples);
  const warmup = SMOKE ? 1 : 5;
  await withCluster(
    'latency',
    {
      masters: 3,
      workers: ['w0'],
      builders: [{ name: 'b0', command: ['sh', '-c', 'date +%s%N >> ../../stamps'], workerNames: ['w0'] }],
      workerMaster: () => 1,
    },
    async (cluster, db) => {
      // The step runs in <worker dir>/b0/build: the stamps land in the worker's directory.
      const stamps = join(cluster.masters[0]!.dir, '..', 'w0', 'stamps');
      const stampLines = () => (existsSync(stamps) ? readFileSync(stamps, 'utf8').trim().split('\n') : []);
      const sender = new ChangeSender(cluster.masters[0]!.port);
      const toCommand: number[] = [];
      try {
        for (let i = 0; i < samples + warmup; i++) {
          const [change] = (await sender.send(1)) as [SentChange];
          await waitUntil(() => stampLines().length > i, 30_000, `the command of change ${i + 1}`, 1);
          const ranAt = Number(stampLines()[i]) / 1e6;
          await waitUntil(async () => (await completed(db)) > i, 30_000, `build ${i + 1} to finish`, 10);
          if (i >= warmup) toCommand.push(ranAt - change.callAt);
          await sleep(20);
        }
      } finally {
        await sender.stop();
      }
      const ranOn = await db.rows<{ masterid: number }>('SELECT DISTINCT masterid FROM builds');
      const b = await cluster.masterid(1);
      if (ranOn.some((r) => Number(r.masterid) !== b))
        throw new Error('a build ran on another master than B');
      const owner = await db.rows<{ masterid: number }>(
        "SELECT masterid FROM leases WHERE name = 'scheduler:main'",
      );
      report('latency', {
        samples: toCommand.length,
        changeTo: 'master A (PB change source)',
        workerOn: 'master B',
        schedulerOnB: Number(owner[0]?.masterid) === b,
        toCommandP50Ms: round(percentile(toCommand, 50)),
        toCommandP95Ms: round(percentile(toCommand, 95)),
        target: 'p50 <= 30 ms',
      });
    },
  );
}

// --- kill -9 of the scheduler's master mid-run ---

const LEASE_SECONDS = 20;
const LOG_LINES = 20;

async function kill(): Promise<void> {
  const workers = workerNames(WORKERS);
  const command = ['sh', '-c', `for i in $(seq 1 ${LOG_LINES}); do echo line $i; sleep 0.05; done`];
  await withCluster(
    'kill',
    {
      masters: 3,
      workers,
      builders: builderSpecs(command, workers),
      leaseSeconds: LEASE_SECONDS,
      heartbeatSeconds: 5,
    },
    async (cluster, db) => {
      const holderRow = async () =>
        (
          await db.rows<{ masterid: number; expires_at: number }>(
            "SELECT masterid, expires_at FROM leases WHERE name = 'scheduler:main'",
          )
        )[0];
      await waitUntil(
        async () => (await holderRow()) !== undefined,
        30_000,
        'the scheduler to have an owner',
      );
      const ids = [await cluster.masterid(0), await cluster.masterid(1), await cluster.masterid(2)];
      const victim = ids.indexOf(Number((await holderRow())!.masterid));
      if (victim < 0) throw new Error('the scheduler is held by none of the masters');
      const target = (victim + 1) % 3;
      const sender = new ChangeSender(cluster.masters[target]!.port);
      const expected = CHANGES * BUILDERS;
      const half = Math.ceil(CHANGES / 2);
      try {
        await sender.send(half);
        // Killed once a build of its has output stored: what it stored must survive.
        await waitUntil(
          async () =>
            (await db.number(
              `SELECT count(*) AS n FROM logchunks c JOIN logs l ON l.id = c.logid JOIN steps s ON s.id = l.stepid
               JOIN builds b ON b.id = s.buildid WHERE b.masterid = ${ids[victim]} AND b.complete_at IS NULL`,
            )) > 0,
          60_000,
          'output of a build running on the scheduler’s master',
          20,
        );
        // What the victim had stored when it died must all survive.
        const builds = await db.rows<{ id: number }>(`SELECT id FROM builds WHERE masterid = ${ids[victim]}`);
        const linesOf = (where: string) =>
          db.rows<{ logid: number; n: number }>(
            `SELECT l.id AS logid, COALESCE(SUM(c.last_line - c.first_line + 1), 0) AS n
             FROM logs l JOIN steps s ON s.id = l.stepid JOIN builds b ON b.id = s.buildid
             LEFT JOIN logchunks c ON c.logid = l.id WHERE ${where} GROUP BY l.id`,
          );
        const linesBefore = await linesOf(`b.masterid = ${ids[victim]}`);
        cluster.kill(victim);
        const killedAt = Date.now();
        await sender.send(CHANGES - half);
        await waitUntil(
          async () => {
            const h = await holderRow();
            return h !== undefined && Number(h.masterid) !== ids[victim];
          },
          120_000,
          'another master to take the scheduler',
          100,
        );
        const failoverS = (Date.now() - killedAt) / 1000;
        await waitUntil(async () => (await completed(db)) >= expected, 600_000, `${expected} requests`, 50);
        const kept = new Set(
          (await db.rows<{ id: number }>(`SELECT id FROM builds WHERE masterid = ${ids[victim]}`)).map((r) =>
            Number(r.id),
          ),
        );
        const linesAfter = new Map(
          (await linesOf(`b.masterid = ${ids[victim]}`)).map((r) => [Number(r.logid), Number(r.n)]),
        );
        const lostLogLines = linesBefore.reduce(
          (sum, r) => sum + Math.max(0, Number(r.n) - (linesAfter.get(Number(r.logid)) ?? 0)),
          0,
        );
        const interrupted = await db.number(
          `SELECT count(DISTINCT buildrequestid) AS n FROM builds WHERE results = ${RETRY}`,
        );
        const rerun = await db.number(
          `SELECT count(DISTINCT r.buildrequestid) AS n FROM builds r JOIN builds ok
             ON ok.buildrequestid = r.buildrequestid AND ok.results = 0 WHERE r.results = ${RETRY}`,
        );
        report('kill', {
          masters: 3,
          workers: WORKERS,
          requests: expected,
          succeeded: await db.number(
            'SELECT count(*) AS n FROM buildrequests WHERE complete = 1 AND results = 0',
          ),
          duplicateBuildsets: await db.number(
            'SELECT COALESCE(SUM(n - 1), 0) AS n FROM (SELECT count(*) AS n FROM buildset_sourcestamps GROUP BY sourcestampid) t',
          ),
          lostBuildRecords: builds.filter((b) => !kept.has(Number(b.id))).length,
          lostLogLines,
          logLinesAtKill: linesBefore.reduce((s, r) => s + Number(r.n), 0),
          interruptedRequests: interrupted,
          rerunToSuccess: rerun,
          schedulerFailoverS: round(failoverS),
          leaseSeconds: LEASE_SECONDS,
          target: '0 duplicates, 0 lost, every interrupted request rerun, failover <= 30 s',
        });
      } finally {
        await sender.stop();
      }
    },
  );
}

// --- start-up with a large database ---

const PENDING = 25_000;
const FINISHED = 100_000;
const SEED_BUILDERS = 50;

async function startup(): Promise<void> {
  const root = tempDir('lathe-bench-scale-startup-');
  const db = await dbs.fresh(root, 'startup');
  try {
    const seedFile = join(root, 'seed.sqlite');
    await (await openAndMigrate({ url: `sqlite:${seedFile}` })).close();
    const pending = SMOKE ? 500 : PENDING;
    const finished = SMOKE ? 1000 : FINISHED;
    seedHistory(seedFile, { pending, finished, builders: SEED_BUILDERS });
    if (ENGINE === 'postgres')
      execFileSync(
        process.execPath,
        [join(ROOT, 'packages/master/bin/lathe.js'), 'copy-db', `sqlite:${seedFile}`, db.url],
        {
          stdio: 'ignore',
        },
      );
    const dir = join(root, 'master');
    execFileSync(process.execPath, [join(ROOT, 'packages/master/bin/lathe.js'), 'create-master', dir], {
      stdio: 'ignore',
    });
    // The seeded builders (b0…), one worker whose attach ends the measurement.
    const builders = Array.from(
      { length: SEED_BUILDERS },
      (_, i) =>
        `{ name: 'b${i}', workerNames: ['w0'], factory: buildFactory(shellCommand({ name: 'step', command: ['sleep', '600'] })) }`,
    );
    writeFileSync(
      join(dir, 'master.config.ts'),
      `import { buildFactory, defineConfig, shellCommand } from '${LATHE_INDEX}';
export default defineConfig({
  workerPort: 0,
  workers: [{ name: 'w0', password: 'pw' }],
  builders: [${builders.join(',\n    ')}],
  db: { url: ${JSON.stringify(ENGINE === 'postgres' ? db.url : `sqlite:${seedFile}`)} },
});
`,
    );
    const master = nodeScript('master-proc.ts', ['--dir', dir, '--wait-workers', '1']);
    const lines = new JsonLines(master, 'master');
    const started = await lines.next((m) => m.started === true, 60_000);
    const sim = nodeScript('sim-workers.ts', ['--port', String(started.port), '--count', '1']);
    const attached = await lines.next((m) => 'attached' in m, 60_000);
    await stopChild(sim);
    lines.send({ cmd: 'stop' });
    await lines.next((m) => m.stopped === true, 30_000).catch(() => {});
    await stopChild(master);
    report('startup', {
      pending,
      finished,
      startToListeningMs: round(started.startMs as number),
      startToFirstWorkerAttachedMs: round(attached.attachedMs as number),
      target: 'startToListeningMs < 2000',
    });
  } finally {
    await db.close();
    removeDir(root);
  }
}

const sections: [string, () => Promise<void>][] = [
  ['builds', builds],
  ['latency', latency],
  ['kill', kill],
  ['startup', startup],
];
try {
  for (const [name, run] of sections) if (!values.only || values.only === name) await run();
} finally {
  dbs.stop();
}
