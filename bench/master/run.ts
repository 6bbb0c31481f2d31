/**
 * The Master issue's benchmarks: Lathe's build master against stock Buildbot 3.7, each
 * target a ratio or a bound measured in one run (the machine is shared and noisy).
 *
 *   ./dev npm run build && ./dev node bench/master/run.ts [--only startup|workers|latency|logs|builds]
 *
 * - startup:  25,000 pending requests + 100,000 finished builds in SQLite; a master process
 *             from `Master.start` to the port listening, and to a worker attached.
 * - workers:  master RSS peak (VmHWM) with 200 simulated PB workers attached (one other process).
 * - latency:  forceBuild → the idle worker's startCommand, p50/p95 (scripted worker in the
 *             master's process, one clock); Buildbot: PB addChange → startCommand, same worker.
 * - logs:     Lathe master + Lathe worker, one step printing 100 MB: MB/s, master VmHWM.
 * - builds:   500 one-`true`-step builds on 4 workers × 4 builders: Lathe vs Buildbot builds/s.
 *
 * Every child runs in its own process group and is killed on exit; every wait is bounded.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { forceBuild, Master, openAndMigrate, waitForRequest, withWorkers } from '@lathe/master';
import { seedHistory } from '../../packages/master/dist/test/seed-history.js';
import {
  BuildbotMaster,
  buildbotAvailable,
  ChangeSender,
  freePort,
  startWorker,
  type WorkerKind,
} from './buildbot.ts';
import {
  JsonLines,
  killAll,
  load,
  memory,
  nodeScript,
  now,
  percentile,
  ROOT,
  removeDir,
  type ScriptedWorker,
  scriptedWorker,
  sleep,
  startChild,
  stopChild,
  TextLines,
  tempDir,
  waitUntil,
  writeLatheConfig,
} from './common.ts';

const { values } = parseArgs({ options: { only: { type: 'string', multiple: true } } });
const only = new Set(values.only ?? []);
const want = (name: string) => only.size === 0 || only.has(name);
const results: Record<string, unknown> = {};
const report = (name: string, figures: Record<string, unknown>) => {
  results[name] = { ...figures, load: load() };
  console.log(`${name}: ${JSON.stringify(results[name])}`);
};
const round = (n: number, d = 1) => Number(n.toFixed(d));

// --- 3. start-up with a large database ---

const PENDING = 25_000;
const FINISHED = 100_000;
const SEED_BUILDERS = 50;

async function startup(): Promise<void> {
  const dir = tempDir('lathe-bench-startup-');
  try {
    // The worker has no builders' requests it could run (its builders are all the seeded
    // ones, but requests stay pending: the measurement stops at the first attach).
    writeLatheConfig(dir, { workers: 1, builders: SEED_BUILDERS, command: ['sleep', '600'] });
    const file = `${dir}/state.sqlite`;
    await (await openAndMigrate({ url: `sqlite:${file}` })).close();
    seedHistory(file, { pending: PENDING, finished: FINISHED, builders: SEED_BUILDERS });
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
      pending: PENDING,
      finished: FINISHED,
      startToListeningMs: round(started.startMs as number),
      // Includes the simulated worker process's own start-up, which runs after the port opened.
      startToFirstWorkerAttachedMs: round(attached.attachedMs as number),
      target: 'startToListeningMs < 2000',
    });
  } finally {
    removeDir(dir);
  }
}

// --- 4. master memory with 200 attached workers ---

async function workers(): Promise<void> {
  const dir = tempDir('lathe-bench-workers-');
  const COUNT = 200;
  try {
    writeLatheConfig(dir, { workers: COUNT, builders: 4, command: ['true'] });
    const master = nodeScript('master-proc.ts', ['--dir', dir, '--wait-workers', String(COUNT)]);
    const lines = new JsonLines(master, 'master');
    const started = await lines.next((m) => m.started === true, 60_000);
    lines.send({ cmd: 'mem' });
    const before = (await lines.next((m) => 'mem' in m, 10_000)).mem as { hwmMB: number; rssMB: number };
    const sim = nodeScript('sim-workers.ts', ['--port', String(started.port), '--count', String(COUNT)]);
    const simLines = new JsonLines(sim, 'simulated workers');
    const ready = await simLines.next((m) => 'ready' in m, 120_000);
    const attached = await lines.next((m) => 'attached' in m, 120_000);
    // A build on each builder while all are attached, then a few seconds connected (keepalives).
    for (let b = 0; b < 4; b++) {
      lines.send({ cmd: 'force', builder: `b${b}` });
      await lines.next((m) => 'forced' in m, 30_000);
    }
    await new Promise((r) => setTimeout(r, 3000));
    lines.send({ cmd: 'mem' });
    const after = (await lines.next((m) => 'mem' in m, 10_000)).mem as { hwmMB: number; rssMB: number };
    sim.stdin!.end();
    await stopChild(sim, 'SIGTERM', 3000);
    lines.send({ cmd: 'stop' });
    await lines.next((m) => m.stopped === true, 30_000).catch(() => {});
    await stopChild(master);
    report('workers', {
      workers: attached.attached,
      loginAllMs: round(ready.ms as number),
      masterHwmBeforeMB: round(before.hwmMB),
      masterHwmMB: round(after.hwmMB),
      masterRssMB: round(after.rssMB),
      target: 'masterHwmMB < 150',
    });
  } finally {
    removeDir(dir);
  }
}

// --- 2. request → first command latency with an idle worker ---

const LATENCY_SAMPLES = 200;
const LATENCY_BUDGET_MS = 60_000;

async function latency(): Promise<void> {
  const dir = tempDir('lathe-bench-latency-');
  let master: Master | null = null;
  let worker: ScriptedWorker | null = null;
  try {
    writeLatheConfig(dir, { workers: 1, builders: 1, command: ['true'] });
    const rt = withWorkers(
      { basedir: dir, name: 'bench-latency' },
      { host: '127.0.0.1', logger: { info: () => {}, warn: (m) => console.warn(m) } },
    );
    master = await Master.start(rt.options);
    let received: number | null = null;
    worker = await scriptedWorker(rt.server.port, 'w0', 'pw', (_b, name) => {
      if (name === 'shell' && received === null) received = now();
    });
    const samples: number[] = [];
    const deadline = Date.now() + LATENCY_BUDGET_MS;
    for (let i = 0; i < LATENCY_SAMPLES + 10 && Date.now() < deadline; i++) {
      received = null;
      const t0 = now();
      const { buildrequestid } = await forceBuild(master, { builder: 'b0' });
      await waitUntil(() => received !== null, 10_000, 'startCommand', 0);
      const r = await waitForRequest(master, buildrequestid, 10_000);
      if (r.results !== 0) throw new Error(`build ${buildrequestid} ended ${r.results}`);
      if (i >= 10) samples.push(received! - t0); // the first 10 warm up
      await sleep(10); // idle worker again: the build's end is recorded
    }
    const m = master;
    await waitUntil(async () => (await m.data.buildrequests.countPending()) === 0, 5000, 'idle');
    await m.stop();
    master = null;
    const bb = buildbotAvailable() ? await buildbotLatency() : [];
    report('latency', {
      samples: samples.length,
      latheP50Ms: round(percentile(samples, 50), 2),
      latheP95Ms: round(percentile(samples, 95), 2),
      latheMaxMs: round(Math.max(...samples), 2),
      buildbotSamples: bb.length,
      buildbotP50Ms: bb.length ? round(percentile(bb, 50), 2) : null,
      buildbotP95Ms: bb.length ? round(percentile(bb, 95), 2) : null,
      measured:
        'Lathe: forceBuild() call → the scripted worker receives startCommand; Buildbot: PB addChange call (PBChangeSource, AnyBranchScheduler treeStableTimer=None) → the same scripted worker receives startCommand; both in this process, one clock',
      target: 'latheP50Ms <= 20',
    });
  } finally {
    worker?.conn.close();
    await master?.stop();
    removeDir(dir);
  }
}

// --- 5. log streaming end to end: Lathe master + Lathe worker ---

const LOG_BYTES = 100_000_000;
const LINE = 'x'.repeat(99);
const LATHE_WORKER = `${ROOT}packages/worker/dist/src/cli.js`;
const LATHE_CLI = `${ROOT}packages/master/bin/lathe.js`;

/**
 * The master as users run it: `lathe start --nodaemon` on a master directory with a
 * master.config.ts, and builds asked for with `lathe force`. Builder b0 streams the 100 MB;
 * b1 runs `true`, so that the time `lathe force` itself takes (a Node start and a PB login)
 * can be taken out of the streaming figure.
 */
async function logs(): Promise<void> {
  const dir = tempDir('lathe-bench-logs-');
  try {
    const workerPort = await freePort();
    execFileSync(process.execPath, [LATHE_CLI, 'create-master', dir], { stdio: 'ignore' });
    writeLatheConfig(dir, {
      workers: 1,
      workerPort,
      commands: [['sh', '-c', `yes ${LINE} | head -c ${LOG_BYTES}`], ['true']],
    });
    const master = startChild(process.execPath, [LATHE_CLI, 'start', '--nodaemon', dir]);
    const log = new TextLines(master);
    await log.next((l) => l.includes('started'), 60_000);
    execFileSync(process.execPath, [
      LATHE_WORKER,
      'create',
      `${dir}/worker`,
      `127.0.0.1:${workerPort}`,
      'w0',
      'pw',
    ]);
    const worker = startChild(process.execPath, [LATHE_WORKER, 'start', '--nodaemon', `${dir}/worker`], {
      stdout: 'ignore',
    });
    await log.next((l) => l.includes('worker w0 attached'), 60_000);
    const force = (builder: string) => {
      const t = now();
      execFileSync(process.execPath, [LATHE_CLI, 'force', '--dir', dir, builder], { stdio: 'ignore' });
      return now() - t;
    };
    const before = memory(master.pid!);
    const emptyMs = Math.min(force('b1'), force('b1'), force('b1'));
    const streamMs = force('b0');
    const after = memory(master.pid!);
    await stopChild(worker);
    await stopChild(master);
    const seconds = (streamMs - emptyMs) / 1000;
    const latheMBps = LOG_BYTES / 1e6 / seconds;
    const bb = buildbotAvailable() ? await buildbotLogs() : null;
    report('logs', {
      bytes: LOG_BYTES,
      forceSeconds: round(streamMs / 1000, 2),
      emptyBuildForceSeconds: round(emptyMs / 1000, 2),
      latheMBps: round(latheMBps),
      masterHwmBeforeMB: round(before.hwmMB),
      masterHwmMB: round(after.hwmMB),
      buildbotSeconds: bb ? round(bb.seconds, 2) : null,
      buildbotMBps: bb ? round(bb.mbps, 2) : null,
      buildbotMasterHwmMB: bb ? round(bb.hwmMB) : null,
      ratio: bb ? round(latheMBps / bb.mbps) : null,
      measured:
        'Lathe: `lathe force b0` (100 MB of 100-byte lines) minus the fastest of three `lathe force b1` (`true`), VmHWM of the `lathe start --nodaemon` process; Buildbot: stock master + stock worker, PB addChange → build complete in state.sqlite (nothing subtracted); MB = 10^6 bytes',
      target: 'ratio >= 5, masterHwmMB < 100',
    });
  } finally {
    removeDir(dir);
  }
}

/** The same step on stock Buildbot 3.7 with a stock buildbot-worker. */
async function buildbotLogs(): Promise<{ seconds: number; mbps: number; hwmMB: number }> {
  const dir = tempDir('lathe-bench-bb-logs-');
  let bb: BuildbotMaster | null = null;
  let worker: ChildProcess | null = null;
  let sender: ChangeSender | null = null;
  try {
    const port = await freePort();
    bb = new BuildbotMaster(`${dir}/master`, {
      workers: 1,
      builders: 1,
      command: ['sh', '-c', `yes ${LINE} | head -c ${LOG_BYTES}`],
      port,
    });
    await bb.start();
    worker = startWorker('stock', `${dir}/w0`, port, 'w0');
    const m = bb;
    await waitUntil(() => m.connectedWorkers() === 1, 120_000, 'the stock worker to attach', 100);
    sender = await ChangeSender.connect(port);
    const t0 = now();
    await sender.send('one');
    await waitUntil(() => m.completedBuilds() >= 1, 900_000, 'the Buildbot log build', 50);
    const ms = now() - t0;
    const ok = m.query<{ n: number }>('SELECT count(*) AS n FROM builds WHERE results = 0')[0]?.n;
    if (Number(ok) !== 1) throw new Error('the Buildbot log build did not succeed');
    return { seconds: ms / 1000, mbps: LOG_BYTES / 1e6 / (ms / 1000), hwmMB: memory(m.pid).hwmMB };
  } finally {
    sender?.close();
    if (worker) await stopChild(worker);
    await bb?.stop();
    removeDir(dir);
  }
}

// --- 1. 500 trivial builds on 4 workers × 4 builders: Lathe vs Buildbot ---

const BUILDS = 500;
const BUILD_WORKERS = 4;
const BUILD_BUILDERS = 4;
const builderNames = Array.from({ length: BUILD_BUILDERS }, (_, i) => `b${i}`);

async function latheBuilds(kind: WorkerKind): Promise<Record<string, number>> {
  const dir = tempDir(`lathe-bench-builds-${kind}-`);
  try {
    writeLatheConfig(dir, { workers: BUILD_WORKERS, builders: BUILD_BUILDERS, command: ['true'] });
    const master = nodeScript('master-proc.ts', ['--dir', dir, '--wait-workers', String(BUILD_WORKERS)]);
    const lines = new JsonLines(master, 'master');
    const started = await lines.next((m) => m.started === true, 60_000);
    const workers = Array.from({ length: BUILD_WORKERS }, (_, i) =>
      startWorker(kind, `${dir}/w${i}`, started.port as number, `w${i}`),
    );
    await lines.next((m) => 'attached' in m, 120_000);
    lines.send({ cmd: 'burst', builders: builderNames, n: BUILDS });
    const burst = await lines.next((m) => 'burst' in m, 600_000);
    for (const w of workers) await stopChild(w);
    lines.send({ cmd: 'stop' });
    await lines.next((m) => m.stopped === true, 30_000).catch(() => {});
    await stopChild(master);
    if (burst.failed !== 0) throw new Error(`${burst.failed} Lathe builds did not succeed`);
    return { seconds: (burst.ms as number) / 1000, buildsPerS: BUILDS / ((burst.ms as number) / 1000) };
  } finally {
    removeDir(dir);
  }
}

async function buildbotBuilds(): Promise<Record<string, number>> {
  const dir = tempDir('lathe-bench-bb-builds-');
  let bb: BuildbotMaster | null = null;
  const workers: ChildProcess[] = [];
  let sender: ChangeSender | null = null;
  try {
    const port = await freePort();
    bb = new BuildbotMaster(`${dir}/master`, {
      workers: BUILD_WORKERS,
      builders: BUILD_BUILDERS,
      command: ['true'],
      port,
    });
    await bb.start();
    for (let i = 0; i < BUILD_WORKERS; i++) workers.push(startWorker('stock', `${dir}/w${i}`, port, `w${i}`));
    const m = bb;
    await waitUntil(() => m.connectedWorkers() === BUILD_WORKERS, 120_000, 'stock workers to attach', 100);
    sender = await ChangeSender.connect(port);
    const t0 = now();
    // One change triggers a build on each of the 4 builders.
    for (let i = 0; i < BUILDS / BUILD_BUILDERS; i++) await sender.send('all');
    const submittedMs = now() - t0;
    await waitUntil(() => m.completedBuilds() >= BUILDS, 900_000, `${BUILDS} Buildbot builds`, 50);
    const ms = now() - t0;
    const ok = m.query<{ n: number }>('SELECT count(*) AS n FROM builds WHERE results = 0')[0]?.n;
    if (Number(ok) !== BUILDS) throw new Error(`only ${ok} of ${BUILDS} Buildbot builds succeeded`);
    return { seconds: ms / 1000, buildsPerS: BUILDS / (ms / 1000), submittedS: submittedMs / 1000 };
  } finally {
    sender?.close();
    for (const w of workers) await stopChild(w);
    await bb?.stop();
    removeDir(dir);
  }
}

async function builds(): Promise<void> {
  const lathe = await latheBuilds('lathe');
  const latheStock = await latheBuilds('stock');
  const bb = buildbotAvailable() ? await buildbotBuilds() : null;
  report('builds', {
    builds: BUILDS,
    latheWorkerBuildsPerS: round(lathe.buildsPerS!),
    latheWithStockWorkersBuildsPerS: round(latheStock.buildsPerS!),
    buildbotBuildsPerS: bb ? round(bb.buildsPerS!, 2) : null,
    ratioLatheWorker: bb ? round(lathe.buildsPerS! / bb.buildsPerS!) : null,
    ratioBothStockWorkers: bb ? round(latheStock.buildsPerS! / bb.buildsPerS!) : null,
    measured:
      'first submission → last build complete; Buildbot: 125 PB addChange × 4 builders, polled in state.sqlite every 50 ms',
    target: 'ratio >= 10',
  });
}

const BB_LATENCY_SAMPLES = 40;

/** Buildbot: one change for builder b0 → its scripted worker w0 gets startCommand. */
async function buildbotLatency(): Promise<number[]> {
  const dir = tempDir('lathe-bench-bb-latency-');
  let bb: BuildbotMaster | null = null;
  let worker: ScriptedWorker | null = null;
  let sender: ChangeSender | null = null;
  try {
    const port = await freePort();
    bb = new BuildbotMaster(`${dir}/master`, { workers: 1, builders: 1, command: ['true'], port });
    await bb.start();
    let received: number | null = null;
    worker = await scriptedWorker(port, 'w0', 'pw', (_b, name) => {
      if (name === 'shell' && received === null) received = now();
    });
    sender = await ChangeSender.connect(port);
    const m = bb;
    const samples: number[] = [];
    const deadline = Date.now() + LATENCY_BUDGET_MS;
    for (let i = 0; i < BB_LATENCY_SAMPLES + 3 && Date.now() < deadline; i++) {
      received = null;
      const t0 = now();
      await sender.send('one');
      await waitUntil(() => received !== null, 20_000, 'Buildbot startCommand', 0);
      if (i >= 3) samples.push(received! - t0);
      await waitUntil(() => m.completedBuilds() >= i + 1, 20_000, 'the Buildbot build to finish', 10);
      await sleep(10);
    }
    return samples;
  } finally {
    sender?.close();
    worker?.conn.close();
    await bb?.stop();
    removeDir(dir);
  }
}

const scenarios: Array<[string, () => Promise<void>]> = [
  ['startup', startup],
  ['workers', workers],
  ['latency', latency],
  ['logs', logs],
  ['builds', builds],
];

try {
  for (const [name, fn] of scenarios) if (want(name)) await fn();
} finally {
  killAll();
}
console.log(JSON.stringify(results, null, 2));
process.exit(0);
