// Reporters: how long from a build's end to its mail being accepted by an SMTP server, with
// builds finishing at a steady rate; and what a busy mail reporter costs the master's build
// path. A master in this process (no worker: builds are recorded through the data layer as
// the build runner records them, the outbox row committing with the result) with one mail
// reporter (mode 'all') sending to a real SMTP server (npm smtp-server) on loopback.
//
//   ./dev node bench/reporters/run.ts [--rate 50] [--minutes 2] [--builds 300]
//
// Latency: --rate builds per minute for --minutes; each build's end (the moment its result
// committed, as the bus announces it) to the SMTP server accepting the mail about it.
// Overhead: --builds builds recorded back to back, without reporters and then with the mail
// reporter delivering each, in the same process; builds per second compared.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { FAILURE, Master, type Result } from '@lathe/master';
import { SMTPServer } from 'smtp-server';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    minutes: { type: 'string', default: '2' },
    builds: { type: 'string', default: '300' },
  },
});
const RATE = Number(values.rate);
const MINUTES = Number(values.minutes);
const BUILDS = Number(values.builds);
const root = join(import.meta.dirname, '..', '..');
const latheIndex = pathToFileURL(join(root, 'packages', 'master', 'dist', 'src', 'index.js')).href;
// The reporter tests' helper: a change, its buildset and request, a build with a step and
// a log, recorded through the data layer the way the build runner records them.
type RecordBuild = (
  data: Master['data'],
  masterid: number,
  spec: { builder: string; author: string; results: Result },
) => Promise<unknown>;
const { recordBuild } = (await import(
  pathToFileURL(join(root, 'packages', 'master', 'dist', 'test', 'report-history.js')).href
)) as { recordBuild: RecordBuild };

/** Build number → when the SMTP server accepted its mail (performance.now()). */
const accepted = new Map<number, number>();
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, _session, callback) {
    let head = '';
    stream.on('data', (c: Buffer) => {
      if (head.length < 4096) head += c.toString('latin1');
    });
    stream.on('end', () => {
      const number = /^Subject: .*Build #(\d+) /im.exec(head)?.[1];
      if (number) accepted.set(Number(number), performance.now());
      callback();
    });
  },
});
await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
const smtpPort = (smtp.server.address() as { port: number }).port;

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
  const master = await Master.start({ basedir: dir, name: 'bench', onError: (e, c) => console.error(c, e) });
  return { master, dir };
}

async function stopMaster({ master, dir }: { master: Master; dir: string }): Promise<void> {
  await master.stop();
  rmSync(dir, { recursive: true, force: true });
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

// 1. Latency at a steady rate.
{
  const m = await startMaster(true);
  const count = Math.round(RATE * MINUTES);
  /** Build number → when its result committed (the bus announces it right after the commit). */
  const finishedAt = new Map<number, number>();
  m.master.bus.subscribe('build.finished.#', (msg) => {
    finishedAt.set(msg.payload.number, performance.now());
  });
  const interval = 60_000 / RATE;
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await recordBuild(m.master.data, m.master.masterid, {
      builder: 'app',
      author: `dev${i} <dev${i}@example.org>`,
      results: FAILURE,
    });
  }
  await m.master.reporters.runners[0]!.idle();
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

// 2. Build-path throughput with and without a busy reporter.
async function throughput(withReporter: boolean): Promise<number> {
  const m = await startMaster(withReporter);
  // Warm up the statements and the JIT.
  for (let i = 0; i < 20; i++)
    await recordBuild(m.master.data, m.master.masterid, { builder: 'app', author: 'w', results: FAILURE });
  const t0 = performance.now();
  for (let i = 0; i < BUILDS; i++)
    await recordBuild(m.master.data, m.master.masterid, {
      builder: 'app',
      author: `dev${i}`,
      results: FAILURE,
    });
  const perSecond = BUILDS / ((performance.now() - t0) / 1000);
  await stopMaster(m);
  return perSecond;
}
const rounds: [number, number][] = [];
for (let i = 0; i < 3; i++) rounds.push([await throughput(false), await throughput(true)]);
for (const [off, on] of rounds)
  console.log(
    `recorded builds/s: no reporter ${off.toFixed(1)}, mail reporter ${on.toFixed(1)} (${(((off - on) / off) * 100).toFixed(1)} % slower)`,
  );
await new Promise<void>((r) => smtp.close(() => r()));
