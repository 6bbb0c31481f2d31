// Data API realtime: what a WebSocket subscriber costs the master and how fast it hears of a
// write. The master side (data layer on SQLite, the bus-to-queue bridge, the Fastify app)
// runs in a child process, so its CPU and memory are measured apart from the clients':
//
//   1. latency: one WebSocket subscriber to a build's steps (in the child, so that one
//      clock times both ends); steps are started one at a time; time from just before the
//      write to the event's arrival (p50, p99);
//   2. load: SUBSCRIBERS WebSocket clients, each following one of BUILDS running builds
//      (`builds.<id>` and its log `logs.<id>`), while each build appends a line to its log
//      every 200 ms and starts a new step every 5 s; the child's CPU over the window, and
//      the step latency measured meanwhile;
//   3. memory: CYCLES subscribe/unsubscribe pairs on one connection, then CYCLES
//      connect-subscribe-close cycles; the child's heap (after gc) and RSS along the way.
//
//   ./dev node bench/api/realtime.ts [--subscribers 1000] [--builds 50] [--seconds 20]
//                                    [--cycles 10000] [--samples 200]
//
// Needs the compiled packages (`./dev npm run build`).
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  bridgeBusToQueue,
  DataApi,
  DataLayer,
  EventBus,
  InProcessQueue,
  openAndMigrate,
  SUCCESS,
} from '@lathe/master';
import { buildApiApp } from '@lathe/master/http';

const { values } = parseArgs({
  options: {
    serve: { type: 'boolean' },
    subscribers: { type: 'string', default: '1000' },
    builds: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    cycles: { type: 'string', default: '10000' },
    samples: { type: 'string', default: '200' },
  },
});

/** Wall-clock milliseconds comparable across the two processes. */
const clock = () => performance.timeOrigin + performance.now();

type ToChild =
  | { cmd: 'latency'; samples: number; buildIndex: number }
  | { cmd: 'load'; on: boolean }
  | { cmd: 'cpu' }
  | { cmd: 'mem' };
type FromChild =
  | { kind: 'ready'; port: number; builds: { buildid: number; logid: number }[] }
  | { kind: 'latency'; ms: number[] }
  | { kind: 'cpu'; userMs: number; systemMs: number; wallMs: number; appends: number; steps: number }
  | { kind: 'mem'; heapMiB: number; rssMiB: number };

// ---------------------------------------------------------------- the master side (child)

async function serve(): Promise<void> {
  const send = (m: FromChild) => process.send!(m);
  const dir = mkdtempSync(join(tmpdir(), 'lathe-bench-rt-'));
  const db = await openAndMigrate({ url: `sqlite:${join(dir, 'bench.sqlite')}` });
  const bus = new EventBus();
  const data = new DataLayer(db, bus);
  const api = new DataApi(data);
  const queue = new InProcessQueue({ history: 10_000 });
  bridgeBusToQueue(bus, api, queue);
  const app = await buildApiApp({ api, queue, log: () => {} });
  await app.listen({ port: 0, host: '127.0.0.1' });

  const { masterid } = await data.masters.register('bench');

  const ss = await data.sourcestamps.findOrCreate({ repository: 'r', codebase: '', project: '' });
  const running: { buildid: number; logid: number; stepid: number; steps: number }[] = [];
  for (let i = 0; i < Number(values.builds); i++) {
    const builderid = await data.builders.findOrCreate(`builder-${i}`);
    const bs = await data.buildsets.add({ sourcestampids: [ss], builderids: [builderid] });
    const brid = bs.buildrequestids.get(builderid)!;
    await data.buildrequests.claim([brid], masterid);
    const { buildid } = await data.builds.add({ builderid, buildrequestid: brid, masterid, workerid: null });
    const step = await data.steps.add(buildid, 'step-0');
    await data.steps.start(step.stepid);
    const logid = await data.logs.add(step.stepid, 'stdio', 's');
    running.push({ buildid, logid, stepid: step.stepid, steps: 1 });
  }

  let load: NodeJS.Timeout[] = [];
  // What the load really wrote: a loaded machine writes less than asked.
  let written = { appends: 0, steps: 0 };
  const startLoad = () => {
    running.forEach((b, i) => {
      // Spread the builds over the period so that writes do not come in bursts.
      const offset = (i * 200) / running.length;
      setTimeout(() => {
        load.push(
          setInterval(() => {
            void data.logs.append(b.logid, `oline ${Date.now()} of build ${b.buildid}\n`).then(() => {
              written.appends++;
            });
          }, 200),
        );
      }, offset).unref();
      setTimeout(
        () => {
          load.push(
            setInterval(async () => {
              await data.steps.finish(b.stepid, SUCCESS);
              const next = await data.steps.add(b.buildid, `step-${b.steps++}`);
              b.stepid = next.stepid;
              await data.steps.start(next.stepid);
              written.steps++;
            }, 5000),
          );
        },
        (i * 5000) / running.length,
      ).unref();
    });
  };

  let cpuMark = { usage: process.cpuUsage(), at: clock() };
  process.on('message', async (m: ToChild) => {
    switch (m.cmd) {
      case 'latency': {
        // The probe runs here, so the write and the arrival are timed on one clock; one
        // client costs next to nothing beside the subscribers measured apart.
        const b = running[m.buildIndex]!;
        const probe = new Client(
          `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v2/ws`,
        );
        await probe.opened;
        await probe.request('subscribe', `builds.${b.buildid}.steps`);
        const started = new Map<number, number>();
        const ms: number[] = [];
        probe.onEvent = (f) => {
          const at = started.get(f.resource.stepid as number);
          if (f.resourceType === 'steps' && f.event === 'started' && at !== undefined)
            ms.push(performance.now() - at);
        };
        for (let i = 0; i < m.samples; i++) {
          const step = await data.steps.add(b.buildid, `probe-${i}-${Date.now()}`);
          started.set(step.stepid, performance.now());
          await data.steps.start(step.stepid);
          await new Promise((r) => setTimeout(r, 20));
        }
        await new Promise((r) => setTimeout(r, 500));
        await probe.close();
        send({ kind: 'latency', ms: ms.sort((x, y) => x - y) });
        break;
      }
      case 'load':
        if (m.on) startLoad();
        else {
          for (const t of load) clearInterval(t);
          load = [];
        }
        break;
      case 'cpu': {
        const usage = process.cpuUsage(cpuMark.usage);
        const now = clock();
        send({
          kind: 'cpu',
          userMs: usage.user / 1000,
          systemMs: usage.system / 1000,
          wallMs: now - cpuMark.at,
          ...written,
        });
        written = { appends: 0, steps: 0 };
        cpuMark = { usage: process.cpuUsage(), at: now };
        break;
      }
      case 'mem':
        for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc?.();
        send({
          kind: 'mem',
          heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
          rssMiB: process.memoryUsage().rss / 2 ** 20,
        });
        break;
    }
  });
  process.on('disconnect', async () => {
    await app.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
  send({
    kind: 'ready',
    port: (app.server.address() as { port: number }).port,
    builds: running.map((b) => ({ buildid: b.buildid, logid: b.logid })),
  });
}

// ---------------------------------------------------------------- the clients (parent)

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

class Client {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  #id = 0;
  readonly #acks = new Map<number, () => void>();
  onEvent: (frame: { resourceType: string; resource: Record<string, unknown>; event: string }) => void =
    () => {};

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener('open', () => resolve(), { once: true });
      this.ws.addEventListener('error', () => reject(new Error('websocket error')), { once: true });
    });
    this.ws.addEventListener('message', (e) => {
      const frame = JSON.parse(String(e.data)) as Record<string, unknown>;
      if (frame.type === 'event') this.onEvent(frame as never);
      else if (typeof frame.id === 'number') this.#acks.get(frame.id)?.();
    });
  }

  request(cmd: 'subscribe' | 'unsubscribe', topic: string): Promise<void> {
    const id = ++this.#id;
    return new Promise((resolve) => {
      this.#acks.set(id, () => {
        this.#acks.delete(id);
        resolve();
      });
      this.ws.send(JSON.stringify({ cmd, topic, id }));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.ws.addEventListener('close', () => resolve(), { once: true });
      this.ws.close();
    });
  }
}

async function main(): Promise<void> {
  const child = fork(import.meta.filename, ['--serve', '--builds', String(values.builds)], {
    execArgv: ['--expose-gc'],
  });
  const waiters: ((m: FromChild) => boolean)[] = [];
  child.on('message', (m: FromChild) => {
    for (const w of [...waiters]) if (w(m)) waiters.splice(waiters.indexOf(w), 1);
  });
  const next = <K extends FromChild['kind']>(kind: K) =>
    new Promise<Extract<FromChild, { kind: K }>>((resolve) =>
      waiters.push((m) => {
        if (m.kind !== kind) return false;
        resolve(m as Extract<FromChild, { kind: K }>);
        return true;
      }),
    );
  const ask = (m: ToChild) => child.send(m);
  const ready = await next('ready');
  const url = `ws://127.0.0.1:${ready.port}/api/v2/ws`;

  /** Step-start latency seen by one subscriber of build `index`'s steps. */
  async function latency(index: number): Promise<number[]> {
    const done = next('latency');
    ask({ cmd: 'latency', samples: Number(values.samples), buildIndex: index });
    return (await done).ms;
  }

  const report = (label: string, ms: number[]) =>
    console.log(
      `${label}: p50 ${percentile(ms, 50).toFixed(2)} ms, p99 ${percentile(ms, 99).toFixed(2)} ms (${ms.length} events)`,
    );

  report('step started → WebSocket event, idle master', await latency(0));

  // Load: SUBSCRIBERS clients, each on one running build and its log.
  const subscribers: Client[] = [];
  let received = 0;
  for (let i = 0; i < Number(values.subscribers); i++) {
    const c = new Client(url);
    await c.opened;
    const b = ready.builds[i % ready.builds.length]!;
    await c.request('subscribe', `builds.${b.buildid}`);
    await c.request('subscribe', `logs.${b.logid}`);
    c.onEvent = () => {
      received++;
    };
    subscribers.push(c);
  }
  ask({ cmd: 'load', on: false });
  await new Promise((r) => setTimeout(r, 1000));
  ask({ cmd: 'cpu' });
  await next('cpu');
  await new Promise((r) => setTimeout(r, 2000));
  ask({ cmd: 'cpu' });
  const idleCpu = await next('cpu');
  console.log(
    `${subscribers.length} subscribers connected, no builds writing: master CPU ${((idleCpu.userMs + idleCpu.systemMs) / idleCpu.wallMs).toFixed(3)} cores`,
  );
  ask({ cmd: 'load', on: true });
  await new Promise((r) => setTimeout(r, 6000)); // every build has begun writing
  ask({ cmd: 'cpu' });
  await next('cpu');
  received = 0;
  const windowStart = clock();
  await new Promise((r) => setTimeout(r, Number(values.seconds) * 1000));
  ask({ cmd: 'cpu' });
  const cpu = await next('cpu');
  const rate = received / ((clock() - windowStart) / 1000);
  const perSecond = (n: number) => (n / (cpu.wallMs / 1000)).toFixed(0);
  console.log(
    `${subscribers.length} subscribers, ${ready.builds.length} running builds (asked: a log line every 200 ms, a step every 5 s each; ` +
      `written: ${perSecond(cpu.appends)} log appends/s, ${perSecond(cpu.steps)} step changes/s): ` +
      `master CPU ${((cpu.userMs + cpu.systemMs) / cpu.wallMs).toFixed(3)} cores over ${(cpu.wallMs / 1000).toFixed(1)} s ` +
      `(user ${(cpu.userMs / 1000).toFixed(1)} s, system ${(cpu.systemMs / 1000).toFixed(1)} s); clients received ${rate.toFixed(0)} events/s, ` +
      `${((cpu.userMs + cpu.systemMs) / ((rate * cpu.wallMs) / 1000)).toFixed(3)} ms of master CPU per event delivered`,
  );
  report(`step started → WebSocket event, under that load`, await latency(0));
  ask({ cmd: 'load', on: false });
  await Promise.all(subscribers.map((c) => c.close()));

  // Memory over subscribe/unsubscribe cycles, then connection cycles.
  const cycles = Number(values.cycles);
  const mem = async (label: string) => {
    ask({ cmd: 'mem' });
    const m = await next('mem');
    console.log(`  ${label}: heap ${m.heapMiB.toFixed(1)} MiB, RSS ${m.rssMiB.toFixed(1)} MiB`);
  };
  await new Promise((r) => setTimeout(r, 1000));
  console.log(`memory over ${cycles} subscribe/unsubscribe cycles on one connection:`);
  await mem('before');
  const one = new Client(url);
  await one.opened;
  for (let i = 1; i <= cycles; i++) {
    const topic = `builds.${ready.builds[i % ready.builds.length]!.buildid}`;
    await one.request('subscribe', topic);
    await one.request('unsubscribe', topic);
    if (i % (cycles / 4) === 0) await mem(`after ${i}`);
  }
  await one.close();
  console.log(`memory over ${cycles} connect/subscribe/close cycles:`);
  for (let i = 1; i <= cycles; i++) {
    const c = new Client(url);
    await c.opened;
    await c.request('subscribe', `logs.${ready.builds[i % ready.builds.length]!.logid}`);
    await c.close();
    if (i % (cycles / 4) === 0) await mem(`after ${i}`);
  }
  child.disconnect();
}

if (values.serve) await serve();
else await main();
