// A Lathe master in its own process, so that its memory (VmHWM) is its own. Started by
// run.ts; prints JSON lines on stdout and takes JSON lines on stdin:
//   {"cmd":"force","builder":"b0"}  → {"forced":…,"ms":…,"results":…} once the request completed
//   {"cmd":"mem"}                   → {"mem":…}
//   {"cmd":"stop"}                  → stops the master and exits
//
//   node bench/master/master-proc.ts --dir <basedir> [--wait-workers N]
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { forceBuild, Master, waitForRequest, withWorkers } from '@lathe/master';
import { memory, now } from './common.ts';

const { values } = parseArgs({
  options: { dir: { type: 'string' }, 'wait-workers': { type: 'string', default: '0' } },
});
const out = (msg: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(msg)}\n`);

const t0 = now();
const rt = withWorkers(
  { basedir: values.dir!, name: 'bench' },
  { host: '127.0.0.1', logger: { info: () => {}, warn: (m) => process.stderr.write(`${m}\n`) } },
);
const master = await Master.start(rt.options);
const started = now();
out({ started: true, port: rt.server.port, startMs: started - t0, pid: process.pid });

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const msg = JSON.parse(line) as { cmd: string; builder?: string };
  void (async () => {
    if (msg.cmd === 'force') {
      const t = now();
      const { buildrequestid } = await forceBuild(master, { builder: msg.builder! });
      const row = await waitForRequest(master, buildrequestid, 600_000);
      out({ forced: buildrequestid, ms: now() - t, results: row.results });
    } else if (msg.cmd === 'mem') {
      out({ mem: { ...memory('self'), heapMB: process.memoryUsage().heapTotal / 1e6 } });
    } else if (msg.cmd === 'stop') {
      rl.close();
      await master.stop();
      out({ stopped: true });
      process.exit(0);
    }
  })().catch((err: unknown) => {
    process.stderr.write(`master-proc: ${String(err)}\n`);
    process.exit(1);
  });
});
rl.on('close', () => {
  void master.stop().finally(() => process.exit(0));
});

const waitWorkers = Number(values['wait-workers']);
if (waitWorkers > 0) {
  // Polled every 2 ms (the figure is a start-up time, so 2 ms resolution is plenty).
  const deadline = Date.now() + 120_000;
  const connected = () => [...master.workers.values()].filter((w) => w.connected).length;
  while (connected() < waitWorkers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  out({ attached: connected(), attachedMs: now() - t0 });
}
