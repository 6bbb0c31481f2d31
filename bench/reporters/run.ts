// Reporters: how long from a build's end to its mail being accepted by an SMTP server, with
// builds finishing at a steady rate; whether a receiver that is down for a while loses any
// report; and what a busy mail reporter costs the master's build path. A master in this
// process (no worker: builds are recorded through the data layer as the build runner records
// them, the outbox row committing with the result) with one mail reporter (mode 'all')
// sending to a real SMTP server (npm smtp-server) on loopback, in a child process
// (smtp-sink.ts) so that its CPU is not the master's.
//
//   ./dev node bench/reporters/run.ts [--rate 50] [--minutes 2] [--builds 300] [--pairs 10]
//                                     [--outage-minutes N]
//
// Latency: --rate builds per minute for --minutes; each build's end (the moment its result
// committed, as the bus announces it) to the SMTP server accepting the mail about it.
// Outage (with --outage-minutes): builds at --rate for half a minute (at most N), then the
// SMTP server down for N minutes while builds keep finishing, then up again for as long as
// the lead-in; checks that every build's mail arrives, first arrivals in build order, none
// lost (duplicates, allowed by at-least-once delivery, are counted), and how long after the
// server came back the last one arrived. The reporter keeps its default retry (1 s doubling
// to 5 minutes). Exits 1 when a report is lost or out of order.
// Overhead: --pairs pairs of runs, one without reporters and one with the mail reporter
// delivering each build (alternating which goes first, so that drift in the machine's load
// falls on both sides), each recording --builds builds back to back in a fresh master.
// Printed: the median and spread of the per-pair ratios of builds per second, and CPU time
// per build (process.cpuUsage of this process, user + system, from the first build until
// every report was delivered), which depends much less on what else the machine runs.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { FAILURE, Master, type Result } from '@lathe/master';
import type { SinkCommand, SinkMessage } from './smtp-sink.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    minutes: { type: 'string', default: '2' },
    builds: { type: 'string', default: '300' },
    pairs: { type: 'string', default: '10' },
    'outage-minutes': { type: 'string' },
  },
});
const RATE = Number(values.rate);
const MINUTES = Number(values.minutes);
const BUILDS = Number(values.builds);
const PAIRS = Number(values.pairs);
const OUTAGE_MINUTES = values['outage-minutes'] === undefined ? null : Number(values['outage-minutes']);
for (const [name, v] of Object.entries({ RATE, MINUTES, BUILDS, PAIRS, OUTAGE_MINUTES }))
  if (v !== null && !(Number.isFinite(v) && v > 0)) {
    console.error(`bench/reporters: --${name.toLowerCase().replace('_', '-')} must be a positive number`);
    process.exit(2);
  }
const root = join(import.meta.dirname, '..', '..');
const latheIndex = pathToFileURL(join(root, 'packages', 'master', 'dist', 'src', 'index.js')).href;
// The reporter tests' helper: a change, its buildset and request, a build with a step and
// a log, recorded through the data layer the way the build runner records them.
type RecordBuild = (
  data: Master['data'],
  masterid: number,
  spec: { builder: string; author: string; results: Result },
) => Promise<{ number: number }>;
const { recordBuild } = (await import(
  pathToFileURL(join(root, 'packages', 'master', 'dist', 'test', 'report-history.js')).href
)) as { recordBuild: RecordBuild };

/** Epoch ms with sub-millisecond precision, comparable with the SMTP sink's. */
const now = () => performance.timeOrigin + performance.now();

/** Every mail the SMTP server accepted since the last reset, in the order it did. */
let mails: { build: number; at: number }[] = [];
const sink: ChildProcess = fork(join(import.meta.dirname, 'smtp-sink.ts'), [], { stdio: 'inherit' });
const sinkWaiters: ((m: SinkMessage) => void)[] = [];
sink.on('message', (m: SinkMessage) => {
  if (m.kind === 'mail') mails.push({ build: m.build, at: m.at });
  else for (const wake of sinkWaiters.splice(0)) wake(m);
});
/** Sends the sink a command and waits for it to be done (listening again, or down). */
function sinkDo(command: SinkCommand | null): Promise<SinkMessage> {
  const done = new Promise<SinkMessage>((resolve) => sinkWaiters.push(resolve));
  if (command) sink.send(command);
  return done;
}
const listening = await sinkDo(null);
const smtpPort = listening.kind === 'listening' ? listening.port : 0;

function config(withReporter: boolean): string {
  const reporters = withReporter
    ? `reporters: [{
    reporter: new MailReporter({ from: 'ci@example.org', to: ['team@example.org'], smtp: { host: '127.0.0.1', port: ${smtpPort}, security: 'none' } }),
    generators: [buildStatusGenerator({ mode: 'all' })],
  }],`
    : '';
  return `import { buildFactory, buildStatusGenerator, defineConfig, MailReporter } from '${latheIndex}';
const step = { name: 'compile', async run() { return 0 as const; } };
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'app', workerNames: ['w1'], factory: buildFactory(step) }],
  ${reporters}
});
`;
}

async function startMaster(withReporter: boolean): Promise<{ master: Master; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-bench-reporters-'));
  writeFileSync(join(dir, 'master.config.ts'), config(withReporter));
  // One line per error: during an outage each failed attempt is one.
  const master = await Master.start({
    basedir: dir,
    name: 'bench',
    onError: (e, c) => console.error(`${c}: ${e instanceof Error ? e.message : String(e)}`),
  });
  return { master, dir };
}

async function stopMaster({ master, dir }: { master: Master; dir: string }): Promise<void> {
  await master.stop();
  rmSync(dir, { recursive: true, force: true });
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/**
 * Records `count` failed builds at --rate per minute, calling `recorded` with each one's
 * number and `between` (when given) before each.
 */
async function recordAtRate(
  master: Master,
  count: number,
  recorded: (number: number) => void,
  between?: () => Promise<void>,
): Promise<void> {
  const interval = 60_000 / RATE;
  const start = now();
  for (let i = 0; i < count; i++) {
    const wait = start + i * interval - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await between?.();
    const build = await recordBuild(master.data, master.masterid, {
      builder: 'app',
      author: `dev${i} <dev${i}@example.org>`,
      results: FAILURE,
    });
    recorded(build.number);
  }
}

// 1. Latency at a steady rate.
{
  const m = await startMaster(true);
  mails = [];
  const count = Math.round(RATE * MINUTES);
  /** Build number → when its result committed (the bus announces it right after the commit). */
  const finishedAt = new Map<number, number>();
  m.master.bus.subscribe('build.finished.#', (msg) => {
    finishedAt.set(msg.payload.number, now());
  });
  await recordAtRate(m.master, count, () => {});
  await m.master.reporters.runners[0]!.idle();
  const accepted = new Map<number, number>();
  for (const { build, at } of mails) if (!accepted.has(build)) accepted.set(build, at);
  const latencies: number[] = [];
  for (const [number, finished] of finishedAt) {
    const at = accepted.get(number);
    if (at !== undefined) latencies.push(at - finished);
  }
  latencies.sort((a, b) => a - b);
  console.log(
    `build finished → mail accepted, ${count} builds at ${RATE}/min: ${latencies.length} mails, p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`,
  );
  if (latencies.length !== count) console.log(`  MISSING: ${count - latencies.length} mails`);
  await stopMaster(m);
}

// 2. A receiver outage while builds keep finishing.
let failed = false;
if (OUTAGE_MINUTES !== null) {
  const m = await startMaster(true);
  mails = [];
  const outageMs = OUTAGE_MINUTES * 60_000;
  const leadMs = Math.min(30_000, outageMs);
  const count = Math.round((RATE * (2 * leadMs + outageMs)) / 60_000);
  const numbers: number[] = [];
  let downAt = 0;
  let upAt = 0;
  let duringOutage = 0;
  const t0 = now();
  await recordAtRate(
    m.master,
    count,
    (number) => {
      numbers.push(number);
      if (downAt && !upAt) duringOutage++;
    },
    async () => {
      const t = now() - t0;
      if (!downAt && t >= leadMs) {
        await sinkDo('down');
        downAt = now();
      } else if (downAt && !upAt && t >= leadMs + outageMs) {
        await sinkDo('up');
        upAt = now();
      }
    },
  );
  if (!upAt) {
    await sinkDo('up');
    upAt = now();
  }
  // Every report, however far the backoff got (at most 5 minutes between attempts).
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    m.master.reporters.runners[0]!.idle(),
    new Promise((r) => {
      timer = setTimeout(r, 6 * 60_000);
    }),
  ]);
  clearTimeout(timer);
  // First arrivals in arrival order; a mail sent again after a dropped connection is a duplicate.
  const firsts = [...new Set(mails.map((x) => x.build))];
  const seen = new Set(firsts);
  const lost = numbers.filter((n) => !seen.has(n));
  const inOrder = firsts.every((n, i) => i === 0 || n > firsts[i - 1]!);
  const lastAt = Math.max(...mails.map((x) => x.at));
  console.log(
    `SMTP server down ${OUTAGE_MINUTES} min: ${count} builds (${duringOutage} finished while it was down), ` +
      `${seen.size} mailed, ${lost.length} lost, ${inOrder ? 'in order' : 'OUT OF ORDER'}, ` +
      `${mails.length - seen.size} sent twice; the last arrived ${((lastAt - upAt) / 1000).toFixed(1)} s after the server was back`,
  );
  if (lost.length > 0)
    console.log(`  LOST: builds ${lost.slice(0, 20).join(', ')}${lost.length > 20 ? ' …' : ''}`);
  if (!inOrder) console.log(`  ORDER: ${firsts.join(' ')}`);
  failed = lost.length > 0 || !inOrder;
  await stopMaster(m);
}

// 3. Build-path cost with and without a busy reporter, in alternating pairs.
interface Run {
  readonly perSecond: number;
  /** CPU ms of this process per build, until every report was delivered. */
  readonly cpuPerBuild: number;
}
async function throughput(withReporter: boolean): Promise<Run> {
  const m = await startMaster(withReporter);
  // Warm up the statements and the JIT, and let the warm-up's mails go.
  for (let i = 0; i < 20; i++)
    await recordBuild(m.master.data, m.master.masterid, { builder: 'app', author: 'w', results: FAILURE });
  await m.master.reporters.runners[0]?.idle();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  for (let i = 0; i < BUILDS; i++)
    await recordBuild(m.master.data, m.master.masterid, {
      builder: 'app',
      author: `dev${i}`,
      results: FAILURE,
    });
  const perSecond = BUILDS / ((now() - t0) / 1000);
  await m.master.reporters.runners[0]?.idle();
  const cpu = process.cpuUsage(cpu0);
  await stopMaster(m);
  return { perSecond, cpuPerBuild: (cpu.user + cpu.system) / 1000 / BUILDS };
}
const pairs: { off: Run; on: Run }[] = [];
for (let i = 0; i < PAIRS; i++) {
  // Alternate which goes first, so that a machine getting busier or quieter weighs on both.
  const first = await throughput(i % 2 === 1);
  const second = await throughput(i % 2 === 0);
  const pair = i % 2 === 1 ? { on: first, off: second } : { off: first, on: second };
  pairs.push(pair);
  console.log(
    `pair ${i + 1}: builds/s ${pair.off.perSecond.toFixed(1)} without, ${pair.on.perSecond.toFixed(1)} with the mail reporter; ` +
      `CPU ms/build ${pair.off.cpuPerBuild.toFixed(2)} without, ${pair.on.cpuPerBuild.toFixed(2)} with`,
  );
}
/** Median and quartiles of `xs`, as "median (p25–p75, min–max)". */
function spread(xs: number[], fmt: (x: number) => string): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => {
    const at = p * (s.length - 1);
    const lo = Math.floor(at);
    return s[lo]! + (s[Math.ceil(at)]! - s[lo]!) * (at - lo);
  };
  return `${fmt(q(0.5))} (quartiles ${fmt(q(0.25))}–${fmt(q(0.75))}, range ${fmt(s[0]!)}–${fmt(s.at(-1)!)})`;
}
const percent = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`;
const ms = (x: number) => `${x.toFixed(2)} ms`;
console.log(
  `build-path throughput with the mail reporter, per-pair change over ${PAIRS} pairs: ${spread(
    pairs.map((p) => (p.on.perSecond / p.off.perSecond - 1) * 100),
    percent,
  )}`,
);
console.log(
  `CPU per build, until every report was delivered: without ${spread(
    pairs.map((p) => p.off.cpuPerBuild),
    ms,
  )}; with ${spread(
    pairs.map((p) => p.on.cpuPerBuild),
    ms,
  )}; per-pair change ${spread(
    pairs.map((p) => (p.on.cpuPerBuild / p.off.cpuPerBuild - 1) * 100),
    percent,
  )}`,
);
sink.disconnect();
if (failed) process.exitCode = 1;
