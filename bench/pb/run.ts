/**
 * PB benchmark: Lathe and Twisted, as client and server, measured in one run so the
 * ratios hold on a noisy machine.
 *
 *   ./dev node bench/pb/run.ts [--duration 2] [--repeat 3]
 *
 * Pairs (client → server): Lathe→Lathe, Twisted→Twisted, Lathe→Twisted, Twisted→Lathe.
 * Each pair runs in separate processes over loopback TCP; the rounds are interleaved.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = fileURLToPath(new URL('.', import.meta.url));
const PYTHON = process.env.LATHE_TWISTED_PYTHON ?? '/usr/bin/python3';
const { values } = parseArgs({
  options: { duration: { type: 'string', default: '2' }, repeat: { type: 'string', default: '3' } },
});

type Figures = Record<'sequential_calls_per_s' | 'pipelined_calls_per_s' | 'build_echo_per_s', number>;
const METRICS: Array<keyof Figures> = ['sequential_calls_per_s', 'pipelined_calls_per_s', 'build_echo_per_s'];

const lathe = (args: string[]) => [process.execPath, [`${here}lathe_bench.ts`, ...args]] as const;
const twisted = (args: string[]) => [PYTHON, [`${here}bench_pb.py`, ...args]] as const;

async function startServer([cmd, args]: readonly [string, readonly string[]]): Promise<{
  port: number;
  child: ChildProcess;
}> {
  const child = spawn(cmd, [...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`${cmd} exited with ${code} before listening`)));
  });
  return { port, child };
}

async function runClient([cmd, args]: readonly [string, readonly string[]]): Promise<Figures> {
  const child = spawn(cmd, [...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop()!);
}

const servers = {
  raw: await startServer(lathe(['--raw-serve'])),
  lathe: await startServer(lathe(['--serve'])),
  twisted: await startServer(twisted(['--serve', '--watch-stdin'])),
};
const clientArgs = (port: number) => [
  '--connect',
  `127.0.0.1:${port}`,
  '--duration',
  values.duration!,
  '--repeat',
  '1',
];
const pairs = {
  'Lathe → Lathe': () => runClient(lathe(clientArgs(servers.lathe.port))),
  'Twisted → Twisted': () => runClient(twisted(clientArgs(servers.twisted.port))),
  'Lathe → Twisted': () => runClient(lathe(clientArgs(servers.twisted.port))),
  'Twisted → Lathe': () => runClient(twisted(clientArgs(servers.lathe.port))),
};
const results: Record<string, Figures[]> = Object.fromEntries(Object.keys(pairs).map((name) => [name, []]));
const rawRuns: number[] = [];
for (let round = 0; round < Number(values.repeat); round++) {
  for (const [name, run] of Object.entries(pairs)) results[name]!.push(await run());
  const raw = (await runClient(
    lathe([
      '--raw-connect',
      `127.0.0.1:${servers.raw.port}`,
      '--duration',
      values.duration!,
      '--repeat',
      '1',
    ]),
  )) as unknown as { round_trips_per_s: number };
  rawRuns.push(raw.round_trips_per_s);
}
for (const s of Object.values(servers)) s.child.stdin!.end();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const table: Record<string, Figures> = {};
for (const [name, runs] of Object.entries(results)) {
  table[name] = Object.fromEntries(
    METRICS.map((m) => [m, Math.round(median(runs.map((r) => r[m])))]),
  ) as Figures;
}
const tw = table['Twisted → Twisted']!;
const ll = table['Lathe → Lathe']!;
const ratio = (m: keyof Figures) => (ll[m] / tw[m]).toFixed(1);
console.log(`| client → server | sequential calls/s | pipelined calls/s | ten-step build echoes/s |`);
console.log(`|---|---:|---:|---:|`);
for (const [name, f] of Object.entries(table)) {
  console.log(
    `| ${name} | ${f.sequential_calls_per_s} | ${f.pipelined_calls_per_s} | ${f.build_echo_per_s} |`,
  );
}
console.log(
  `| raw TCP ping-pong, Node ↔ Node (no protocol: the floor for sequential calls) | ${Math.round(median(rawRuns))} | | |`,
);
console.log(
  `\nLathe↔Lathe / Twisted↔Twisted: sequential ${ratio('sequential_calls_per_s')}×, pipelined ${ratio('pipelined_calls_per_s')}×, build echo ${ratio('build_echo_per_s')}×`,
);
console.log(JSON.stringify({ table, raw_round_trips_per_s: median(rawRuns), runs: results, rawRuns }));
