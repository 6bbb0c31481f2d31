// A `lathe start`ed master under a connection and memory flood, with its file descriptors
// capped at 512 as a small server's might be: idle connections from many sources on the
// worker port and on the control port, elements that never end, malformed frames and failed
// logins — some from the real worker's own address. Meanwhile a real Lathe worker connects
// and builds, `lathe status` answers over the control port, and the master's memory, file
// descriptors and log stay bounded. (Before the pre-login limits, the idle connections used
// up the descriptors, so the worker could not attach nor `lathe status` connect, and each
// unfinished element held its bytes.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LatheWorker, waitFor } from './bbworker.js';
import { alive, lathe, MAIN } from './cli-helpers.js';
import { Flood, fdsOf, rssOf } from './flood-client.js';
import { tempDir } from './helpers.js';

const FD_LIMIT = 512;
const MiB = 1024 * 1024;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

/** `lathe start`, with the daemon's descriptors capped (it inherits the limit). */
async function startCapped(dir: string): Promise<number> {
  const child = spawn(
    'sh',
    ['-c', `ulimit -n ${FD_LIMIT} && exec "$0" "$@"`, process.execPath, MAIN, 'start', dir],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d;
  });
  const [code] = (await once(child, 'close')) as [number];
  assert.equal(code, 0, output);
  return Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'));
}

describe('a master under a connection and memory flood', () => {
  const tmp = tempDir('lathe-flood-');
  const dir = join(tmp.path, 'master');
  const flood = new Flood();
  let pid = 0;
  let worker: LatheWorker | undefined;

  after(async () => {
    flood.close();
    await worker?.kill();
    if (pid && alive(pid)) await lathe(['stop', dir]).catch(() => {});
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    tmp.cleanup();
  });

  it('keeps building and answering with memory, descriptors and log bounded', {
    timeout: 240_000,
  }, async () => {
    const port = await freePort();
    const created = await lathe(['create-master', dir, '--worker-port', String(port)]);
    assert.equal(created.code, 0, created.stderr);
    const password = /password: '([0-9a-f]+)'/.exec(readFileSync(join(dir, 'master.config.ts'), 'utf8'))?.[1];
    assert.ok(password, 'the sample worker has a password');
    pid = await startCapped(dir);
    const control = JSON.parse(readFileSync(join(dir, 'control.json'), 'utf8')) as { port: number };
    const before = { rss: rssOf(pid), fds: fdsOf(pid) };

    const workerPort = { port };
    const sources = Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 2}`);
    await flood.idle(workerPort, 600, sources);
    await flood.idle({ port: control.port }, 100, ['127.0.0.1']);
    // On the worker's own address: idle connections and failed logins.
    await flood.idle(workerPort, 100, ['127.0.0.1']);
    await flood.failedLogins(workerPort, 30, 'intruder');
    await flood.malformed(workerPort, 150, '127.0.0.20');
    await flood.memory(workerPort, 64, 4 * MiB, '127.0.0.21');

    worker = new LatheWorker(join(tmp.path, 'worker'), 'local-worker', password, port, { maxDelay: 2 });
    worker.start();
    const status = async () => {
      const r = await lathe(['status', dir, '--json'], { timeoutMs: 20_000 });
      assert.equal(r.code, 0, `lathe status during the flood: ${r.stderr}`);
      return JSON.parse(r.stdout) as { workers: { name: string; connected: boolean }[] };
    };
    await waitFor(
      async () => (await status()).workers.some((w) => w.name === 'local-worker' && w.connected),
      30_000,
      'the worker to attach during the flood',
    );
    const forced = await lathe(['force', 'sample', '--dir', dir, '--timeout', '120'], { timeoutMs: 150_000 });
    assert.equal(forced.code, 0, `${forced.stdout}\n${forced.stderr}`);
    assert.match(forced.stdout, /SUCCESS/i);

    const during = { rss: rssOf(pid), fds: fdsOf(pid) };
    // Worker port 256 and control port 16 connections not logged in, at most.
    assert.ok(during.fds <= before.fds + 256 + 16 + 32, `descriptors ${before.fds} → ${during.fds}`);
    assert.ok(flood.open <= 256 + 16, `flood connections held: ${flood.open}`);
    // The memory flood alone offered 64 × 4 MiB.
    assert.ok(during.rss - before.rss < 100 * MiB, `RSS ${before.rss / MiB} → ${during.rss / MiB} MiB`);

    const log = readFileSync(join(dir, 'lathe.log'), 'utf8');
    const warnings = log.split('\n').filter((l) => /warning: worker port: |control: /.test(l));
    // 20 a minute per port, plus one line each counting what was suppressed.
    assert.ok(warnings.length <= 2 * 21, `${warnings.length} flood warnings in lathe.log`);
    assert.ok(existsSync(join(dir, 'lathe.pid')));
  });
});
