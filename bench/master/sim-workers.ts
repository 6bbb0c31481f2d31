// Simulated workers in one process: `--count` scripted PB workers (w0, w1, …) log in to a
// master and answer every command at once with rc 0. Prints {"ready":…} once all are
// attached; exits when stdin closes.
//
//   node bench/master/sim-workers.ts --port P --count 200 [--retry-ms 10000]
import { parseArgs } from 'node:util';
import { now, type ScriptedWorker, scriptedWorker, sleep } from './common.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    count: { type: 'string', default: '1' },
    'retry-ms': { type: 'string', default: '0' },
    parallel: { type: 'string', default: '20' },
  },
});
const port = Number(values.port);
const count = Number(values.count);
const retryUntil = Date.now() + Number(values['retry-ms']);
const t0 = now();
const workers: ScriptedWorker[] = [];

async function login(i: number): Promise<void> {
  for (;;) {
    try {
      workers.push(await scriptedWorker(port, `w${i}`, 'pw'));
      return;
    } catch (err) {
      if (Date.now() > retryUntil) throw err;
      await sleep(5);
    }
  }
}

let next = 0;
await Promise.all(
  Array.from({ length: Math.min(count, Number(values.parallel)) }, async () => {
    while (next < count) await login(next++);
  }),
);
process.stdout.write(`${JSON.stringify({ ready: workers.length, ms: now() - t0, at: now() })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  for (const w of workers) w.conn.close();
  process.exit(0);
});
