/**
 * Perspective Broker throughput, Lathe side. Mirrors bench_pb.py so the figures compare:
 *
 *   node bench/pb/lathe_bench.ts --serve [--port 0]      server: prints "PORT <n>"; root has echo(x)
 *   node bench/pb/lathe_bench.ts --connect HOST:PORT     client: measures, prints one JSON object
 *
 * Measurements (each --duration seconds, --repeat times, medians), all on one connection:
 * sequential echo(1); pipelined echo(1) with --depth in flight; sequential echo(build);
 * pipelined echo(build) with --build-depth in flight.
 */
import { deepStrictEqual } from 'node:assert';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { connect, listen, Referenceable, type RemoteReference } from '@lathe/pb';
import { buildLean } from './payload.ts';

const { values } = parseArgs({
  options: {
    serve: { type: 'boolean' },
    'raw-serve': { type: 'boolean' },
    'raw-connect': { type: 'string' },
    connect: { type: 'string' },
    port: { type: 'string', default: '0' },
    duration: { type: 'string', default: '2' },
    repeat: { type: 'string', default: '3' },
    depth: { type: 'string', default: '1000' },
    'build-depth': { type: 'string', default: '32' },
  },
});

class EchoRoot extends Referenceable {
  remote_echo(x: unknown) {
    return x;
  }
}

async function serve() {
  const server = await listen({ port: Number(values.port), root: new EchoRoot() });
  console.log(`PORT ${server.port}`);
  // Exit with the parent: the orchestrator closes our stdin.
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

/** Calls/s of `call`, awaited one at a time. */
async function timed(seconds: number, call: () => Promise<unknown>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  let n = 0;
  while (performance.now() < end) {
    await call();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

async function pipelined(
  root: RemoteReference,
  seconds: number,
  depth: number,
  arg: unknown,
): Promise<number> {
  const start = performance.now();
  const end = start + seconds * 1000;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    let inFlight = 0;
    const launch = () => {
      while (inFlight < depth && performance.now() < end) {
        inFlight++;
        root.callRemote('echo', arg).then(() => {
          inFlight--;
          done++;
          if (performance.now() < end) launch();
          else if (inFlight === 0) resolve();
        }, reject);
      }
    };
    launch();
  });
  return done / ((performance.now() - start) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function client(target: string) {
  const [host, port] = target.split(':');
  const conn = await connect({ host: host!, port: Number(port) });
  const root = conn.root();
  const build = buildLean();
  deepStrictEqual(await root.callRemote('echo', build), build);
  const seconds = Number(values.duration);
  const depth = Number(values.depth);
  const buildDepth = Number(values['build-depth']);
  const runs: Record<string, number[]> = { sequential: [], pipelined: [], build: [], buildPipelined: [] };
  // Warm-up, then interleaved rounds so drift affects every figure alike.
  await timed(0.3, () => root.callRemote('echo', 1));
  for (let r = 0; r < Number(values.repeat); r++) {
    runs.sequential!.push(await timed(seconds, () => root.callRemote('echo', 1)));
    runs.pipelined!.push(await pipelined(root, seconds, depth, 1));
    runs.build!.push(await timed(seconds, () => root.callRemote('echo', build)));
    runs.buildPipelined!.push(await pipelined(root, seconds, buildDepth, build));
  }
  conn.close();
  console.log(
    JSON.stringify({
      client: 'lathe',
      sequential_calls_per_s: median(runs.sequential!),
      pipelined_calls_per_s: median(runs.pipelined!),
      build_echo_per_s: median(runs.build!),
      build_pipelined_per_s: median(runs.buildPipelined!),
      runs,
    }),
  );
}

/**
 * The floor under any RPC here: two Node processes bouncing one byte over loopback TCP,
 * with no protocol at all. Sequential PB calls cannot beat this round-trip rate.
 */
async function rawServe() {
  const server = net.createServer((c) => {
    c.setNoDelay(true);
    c.on('data', (d) => c.write(d));
  });
  server.listen(0, '127.0.0.1', () => console.log(`PORT ${(server.address() as net.AddressInfo).port}`));
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

async function rawClient(target: string) {
  const [host, port] = target.split(':');
  const socket = net.connect({ host: host!, port: Number(port) });
  socket.setNoDelay(true);
  await new Promise((r) => socket.once('connect', r));
  let answered: () => void = () => {};
  socket.on('data', () => answered());
  const roundTrip = () =>
    new Promise<void>((r) => {
      answered = r;
      socket.write('x');
    });
  await timed(0.3, roundTrip);
  const runs: number[] = [];
  for (let r = 0; r < Number(values.repeat); r++) runs.push(await timed(Number(values.duration), roundTrip));
  socket.destroy();
  console.log(JSON.stringify({ client: 'raw-tcp', round_trips_per_s: median(runs), runs }));
}

if (values['raw-serve']) await rawServe();
else if (values['raw-connect']) await rawClient(values['raw-connect']);
else if (values.serve) await serve();
else if (values.connect) await client(values.connect);
else {
  console.error('usage: lathe_bench.ts --serve [--port N] | --connect HOST:PORT');
  process.exit(2);
}
