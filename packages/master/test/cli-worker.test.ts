// A master started with the real `lathe` command and a real Lathe worker, driven only
// through `lathe`: the ETA of a running build in `lathe status`.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MasterStatus } from '../src/control/protocol.js';
import { createWorker, type TestWorker, waitFor, workerAvailable } from './bbworker.js';
import { alive, lathe } from './cli-helpers.js';
import { tempDir } from './helpers.js';

/** A port nothing listens on right now: the master's worker port must be known up front. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

function configText(port: number): string {
  return `import { buildFactory, defineConfig, interpolate, shellCommand } from '@lathe/master';
export default defineConfig({
  workerPort: ${port},
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [
    {
      name: 'timed',
      workerNames: ['w1'],
      factory: buildFactory(
        // With --prop hold=1 the first step waits for a file the test writes.
        shellCommand({ name: 'hold', command: interpolate('rm -f go; [ -z "%(prop:hold:-)s" ] || while [ ! -f go ]; do sleep 0.05; done') }),
        shellCommand({ name: 'nap', command: 'sleep 2' }),
      ),
    },
  ],
  db: { url: 'sqlite:state.sqlite' },
});
`;
}

describe('lathe with a running master and a real worker', { skip: !workerAvailable('lathe') }, () => {
  const tmp = tempDir('lathe-cli-worker-');
  const dir = join(tmp.path, 'master');
  const workerDir = join(tmp.path, 'worker');
  const go = join(workerDir, 'timed', 'build', 'go');
  let worker: TestWorker | undefined;
  let pid = 0;

  before(async () => {
    const port = await freePort();
    const created = await lathe(['create-master', dir, '--worker-port', String(port)]);
    assert.equal(created.code, 0, created.stderr);
    writeFileSync(join(dir, 'master.config.ts'), configText(port));
    const started = await lathe(['start', dir], { timeoutMs: 120_000 });
    assert.equal(started.code, 0, `${started.stdout}\n${started.stderr}`);
    pid = Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'));
    worker = createWorker('lathe', workerDir, 'w1', 'pw-1', port);
    worker.start();
    await waitFor(async () => (await status()).workers.some((w) => w.connected), 60_000, 'the worker');
  });

  after(async () => {
    await worker?.kill();
    const current = existsSync(join(dir, 'lathe.pid'))
      ? Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'))
      : 0;
    for (const p of new Set([pid, current])) if (p && alive(p)) process.kill(p, 'SIGKILL');
    tmp.cleanup();
  });

  async function status(): Promise<MasterStatus> {
    const r = await lathe(['status', dir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as MasterStatus;
  }

  it('status shows the ETA of a running build learned from the builder’s history', async () => {
    const first = await lathe(['force', 'timed', '--dir', dir, '--timeout', '60']);
    assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
    const held = await lathe(['force', 'timed', '--dir', dir, '--no-wait', '--prop', 'hold=1']);
    assert.equal(held.code, 0, held.stderr);

    let text = '';
    await waitFor(
      async () => {
        text = (await lathe(['status', dir])).stdout;
        return /ETA/.test(text);
      },
      30_000,
      'an ETA in lathe status',
    );
    // One build of history: hold (already overrunning its usual instant) and a 2 s nap to go.
    assert.match(text, /^ {2}timed #2 on w1, \d+s: [^\n]*, ETA \d\d:\d\d:\d\d \(in \d+s\)$/m);
    const st = await status();
    const [running] = st.builds;
    assert.ok(running && running.eta !== null, JSON.stringify(st.builds));
    const now = Date.now() / 1000;
    assert.ok(running.eta > now - 1 && running.eta < now + 30, `ETA ${running.eta} vs now ${now}`);
    assert.ok(running.progress !== null && running.progress >= 0 && running.progress <= 1);

    writeFileSync(go, '');
    await waitFor(async () => (await status()).builds.length === 0, 30_000, 'the held build to finish');
  });
});
