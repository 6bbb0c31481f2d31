/**
 * Flood benchmark: a `lathe start`ed master (its descriptors capped with `ulimit -n`) under
 * idle connections from many sources on the worker port and on the control port, elements
 * that never end, malformed frames and failed logins; then a real Lathe worker connects and
 * builds while the flood connections are held, and `lathe status` is timed.
 *
 *   ./dev node bench/flood/run.ts [--idle 5000] [--sources 20] [--control 200]
 *                                 [--memory 100] [--memory-mib 15] [--malformed 1000]
 *                                 [--logins 200] [--fd-limit 8192]
 *
 * Needs the compiled packages and tests (`./dev npm run build`). Figures: the master's RSS
 * (VmRSS) and open descriptors before, after each phase, while the worker builds, and 5 and 30 s
 * after the flood disconnected; flood connections the master still holds; the worker's time
 * to attach; `lathe status` time; the warnings the flood wrote to lathe.log.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LatheWorker } from '../../packages/master/dist/test/bbworker.js';
import { lathe, MAIN } from '../../packages/master/dist/test/cli-helpers.js';
import { Flood, fdsOf, rssOf } from '../../packages/master/dist/test/flood-client.js';
import { tempDir } from '../../packages/master/dist/test/helpers.js';

const { values } = parseArgs({
  options: {
    idle: { type: 'string', default: '5000' },
    sources: { type: 'string', default: '20' },
    control: { type: 'string', default: '200' },
    memory: { type: 'string', default: '100' },
    'memory-mib': { type: 'string', default: '15' },
    malformed: { type: 'string', default: '1000' },
    logins: { type: 'string', default: '200' },
    'fd-limit': { type: 'string', default: '8192' },
  },
});
const n = (k: keyof typeof values) => Number(values[k]);

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

const tmp = tempDir('lathe-flood-bench-');
const dir = join(tmp.path, 'master');
const flood = new Flood();
let worker: LatheWorker | undefined;
let pid = 0;
const rows: string[][] = [];
const mib = (b: number) => (b / 1024 / 1024).toFixed(0);

async function record(phase: string): Promise<void> {
  // Let this side see the connections the master has cut.
  await new Promise((r) => setTimeout(r, 1000));
  rows.push([phase, mib(rssOf(pid)), String(fdsOf(pid)), String(flood.open)]);
  console.error(
    `${phase}: RSS ${mib(rssOf(pid))} MiB, ${fdsOf(pid)} fds, ${flood.open} flood connections open`,
  );
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, Math.round(performance.now() - t0)];
}

try {
  const port = await freePort();
  const created = await lathe(['create-master', dir, '--worker-port', String(port)]);
  if (created.code !== 0) throw new Error(created.stderr);
  const password = /password: '([0-9a-f]+)'/.exec(readFileSync(join(dir, 'master.config.ts'), 'utf8'))?.[1];
  if (!password) throw new Error('no worker password in master.config.ts');
  const start = spawn(
    'sh',
    ['-c', `ulimit -n ${n('fd-limit')} && exec "$0" "$@"`, process.execPath, MAIN, 'start', dir],
    {
      stdio: 'inherit',
    },
  );
  await once(start, 'close');
  pid = Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'));
  const control = JSON.parse(readFileSync(join(dir, 'control.json'), 'utf8')) as { port: number };
  console.error(
    `master pid ${pid}, worker port ${port}, control port ${control.port}, load ${loadavg()[0]!.toFixed(1)}`,
  );
  await record('before');

  const sources = Array.from(
    { length: n('sources') },
    (_, i) => `127.0.${1 + Math.floor(i / 250)}.${2 + (i % 250)}`,
  );
  await flood.idle({ port }, n('idle'), sources);
  await record(`${n('idle')} idle connections from ${sources.length} sources`);
  await flood.idle({ port: control.port }, n('control'), ['127.0.0.1']);
  await record(`+ ${n('control')} idle on the control port`);
  await flood.failedLogins({ port }, n('logins'), 'intruder');
  await flood.malformed({ port }, n('malformed'), '127.0.10.1');
  await record(`+ ${n('logins')} failed logins, ${n('malformed')} malformed frames`);
  await flood.memory({ port }, n('memory'), n('memory-mib') * 1024 * 1024, '127.0.10.2');
  await record(`+ ${n('memory')} × ${n('memory-mib')} MiB unfinished elements`);

  worker = new LatheWorker(join(tmp.path, 'worker'), 'local-worker', password, port, { maxDelay: 2 });
  const [, attachMs] = await timed(async () => {
    worker!.start();
    for (;;) {
      const r = await lathe(['status', dir, '--json'], { timeoutMs: 30_000 });
      const st = r.code === 0 ? (JSON.parse(r.stdout) as { workers: { connected: boolean }[] }) : null;
      if (st?.workers.some((w) => w.connected)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  const [statusRun, statusMs] = await timed(() => lathe(['status', dir], { timeoutMs: 30_000 }));
  const [forced, buildMs] = await timed(() => lathe(['force', 'sample', '--dir', dir, '--timeout', '300']));
  await record('worker attached and built');
  flood.close();
  await new Promise((r) => setTimeout(r, 4000));
  await record('5 s after the flood disconnected');
  await new Promise((r) => setTimeout(r, 24_000));
  await record('30 s after');

  const log = readFileSync(join(dir, 'lathe.log'), 'utf8').split('\n');
  const warnings = log.filter((l) => /warning: worker port: |control: |protocol error/.test(l)).length;
  console.log('| phase | master RSS (MiB) | master fds | flood connections open |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log();
  console.log(
    `- worker attached ${attachMs} ms after it started; \`lathe status\` took ${statusMs} ms (exit ${statusRun.code})`,
  );
  console.log(`- \`lathe force sample\`: exit ${forced.code} in ${buildMs} ms`);
  console.log(
    `- flood connections cut by the master: ${flood.cut}; flood warnings in lathe.log: ${warnings}`,
  );
  console.log(
    `- load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
} finally {
  flood.close();
  await worker?.kill();
  if (pid) await lathe(['stop', dir]).catch(() => {});
  tmp.cleanup();
}
