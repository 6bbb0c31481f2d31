/**
 * Worker log-streaming benchmark: a stock Buildbot 3.7 master runs one step that prints
 * --mb MiB to stdout (100-byte lines), served by the stock buildbot-worker and/or the
 * Lathe worker, each with a fresh master, one after the other in this run.
 *
 *   ./dev node bench/worker/run.ts [--worker stock|lathe|both] [--mb 100] [--json]
 *                                  [--lathe-cli packages/worker/dist/src/cli.js] [--lathe-node node]
 *
 * Needs the compiled harness (`./dev npx tsc -b packages/worker`). Figures per worker:
 * the step's wall time measured on the master (time.time() around the remote command),
 * throughput, the worker process's peak RSS (VmHWM from /proc/<pid>/status, read at the
 * end while it still runs) and its own CPU time during the build (utime + stime from
 * /proc/<pid>/stat; the printing processes are its children and are not counted), plus
 * the master's CPU time for context. The stdout bytes the master stored are checked.
 */
import { existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import {
  BuildbotHarness,
  type ProcStats,
  procStats,
} from '../../packages/worker/dist/test/buildbot/harness.js';

const { values } = parseArgs({
  options: {
    worker: { type: 'string', default: 'both' },
    mb: { type: 'string', default: '100' },
    json: { type: 'boolean', default: false },
    'lathe-cli': { type: 'string' },
    'lathe-node': { type: 'string' },
    keep: { type: 'boolean', default: false },
    // tmpfs by default: on disk the master's per-chunk SQLite commits dominate
    'tmp-root': { type: 'string', default: existsSync('/dev/shm') ? '/dev/shm' : tmpdir() },
  },
});

const mb = Number(values.mb);
if (!(mb > 0)) throw new Error('--mb must be a positive number');
const kinds =
  values.worker === 'both'
    ? (['stock', 'lathe'] as const)
    : values.worker === 'stock' || values.worker === 'lathe'
      ? ([values.worker] as const)
      : undefined;
if (!kinds) throw new Error('--worker must be stock, lathe or both');

interface Figures {
  worker: string;
  /** 1-minute load average when the build was triggered (shared machines are noisy) */
  loadBefore?: number;
  ok: boolean;
  error?: string;
  /** step start → remote command complete (all output received by the master) */
  receivedSeconds?: number;
  /** step start → all output stored in the database: the step's wall time */
  stepSeconds?: number;
  mbPerSecond?: number;
  receivedMbPerSecond?: number;
  buildSeconds?: number;
  workerPeakRssMiB?: number;
  workerRssBeforeMiB?: number;
  workerCpuSeconds?: number;
  masterCpuSeconds?: number;
  stdoutBytes?: number;
}

const log = (msg: string) => process.stderr.write(`${msg}\n`);

async function measure(kind: 'stock' | 'lathe'): Promise<Figures> {
  const worker = kind === 'stock' ? 'buildbot-worker' : 'lathe';
  const bytes = Math.round(mb * 1024 * 1024);
  // a last partial line is completed with a newline by the worker
  const expected = bytes + (bytes % 100 === 0 ? 0 : 1);
  let h: BuildbotHarness | undefined;
  try {
    h = await BuildbotHarness.create({
      worker,
      builders: ['bench-stream'],
      benchMb: mb,
      ...(values['lathe-cli'] ? { latheCli: values['lathe-cli'] } : {}),
      ...(values['lathe-node'] ? { latheNode: values['lathe-node'] } : {}),
      keep: values.keep,
      tmpRoot: values['tmp-root'],
      log,
      startTimeoutMs: 120_000,
    });
    const master = h.master!;
    const w0: ProcStats = h.workerStats();
    const m0 = procStats(master.pid);
    const loadBefore = loadavg()[0];
    const t0 = performance.now();
    await h.trigger('bench-stream');
    const build = await h.waitForBuild('bench-stream', { timeoutMs: 3_600_000 });
    const buildSeconds = (performance.now() - t0) / 1000;
    const w1 = h.workerStats();
    const m1 = procStats(master.pid);
    const [dumped] = (await h.fullDump(1000)).filter((b) => b.id === build.id);
    const step = dumped?.steps?.find((s) => s.name === 'stream');
    if (!step) throw new Error('no stream step in the database');
    const timingLog = step.logs.find((l) => l.name === 'timing');
    const stdioLog = step.logs.find((l) => l.name === 'stdio');
    const timing = JSON.parse(timingLog?.text ?? '{}') as {
      start?: number;
      received?: number;
      stored?: number;
    };
    const stdoutBytes = stdioLog?.stats?.channelBytes?.o ?? 0;
    const start = timing.start ?? Number.NaN;
    const stepSeconds = (timing.stored ?? Number.NaN) - start;
    const receivedSeconds = (timing.received ?? Number.NaN) - start;
    const ok = build.results === 0 && stdoutBytes === expected;
    return {
      worker,
      loadBefore,
      ok,
      ...(ok ? {} : { error: `results ${build.results}, stdout ${stdoutBytes} bytes of ${expected}` }),
      receivedSeconds,
      stepSeconds,
      mbPerSecond: mb / stepSeconds,
      receivedMbPerSecond: mb / receivedSeconds,
      buildSeconds,
      workerPeakRssMiB: w1.peakRssKiB / 1024,
      workerRssBeforeMiB: w0.rssKiB / 1024,
      workerCpuSeconds: w1.cpuSeconds - w0.cpuSeconds,
      masterCpuSeconds: m1.cpuSeconds - m0.cpuSeconds,
      stdoutBytes,
    };
  } catch (e) {
    return { worker, ok: false, error: (e as Error).message.split('\n')[0] ?? String(e) };
  } finally {
    await h?.close();
  }
}

const results: Figures[] = [];
for (const kind of kinds) {
  log(`--- ${kind}: ${mb} MiB through the stock master`);
  results.push(await measure(kind));
}

const f = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(d));
if (values.json) {
  console.log(JSON.stringify({ mb, results }, null, 2));
} else {
  console.log(`\n${mb} MiB to stdout in 100-byte lines, stock Buildbot 3.7 master\n`);
  console.log(
    '| worker | step wall s | MiB/s | output received s (MiB/s) | build s | worker peak RSS MiB (VmHWM) | worker RSS before MiB | worker CPU s | master CPU s | load |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    if (r.stepSeconds === undefined) {
      console.log(`| ${r.worker} | failed: ${r.error} | | | | | | | | |`);
      continue;
    }
    console.log(
      `| ${r.worker}${r.ok ? '' : ` (${r.error})`} | ${f(r.stepSeconds)} | ${f(r.mbPerSecond, 2)} | ` +
        `${f(r.receivedSeconds)} (${f(r.receivedMbPerSecond, 2)}) | ${f(r.buildSeconds)} | ` +
        `${f(r.workerPeakRssMiB)} | ${f(r.workerRssBeforeMiB)} | ${f(r.workerCpuSeconds, 2)} | ` +
        `${f(r.masterCpuSeconds, 2)} | ${f(r.loadBefore)} |`,
    );
  }
}
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
