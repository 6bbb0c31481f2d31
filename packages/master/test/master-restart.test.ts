// `kill -9` of a master started with the real `lathe` command while a worker runs a long
// build, then `lathe start` again: the interrupted build is marked RETRY ("interrupted by
// master restart"), its request runs again and succeeds, what was recorded before the
// crash (an earlier C project build, its logs, the interrupted build's output) is all
// still there, and the worker reconnects by itself. Once with each worker kind.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { INTERRUPTED_STATE } from '../src/data/index.js';
import { RETRY, SUCCESS } from '../src/results.js';
import { createWorker, type TestWorker, type WorkerKind, waitFor, workerAvailable } from './bbworker.js';
import { alive, lathe } from './cli-helpers.js';
import { createProject } from './cproject.js';
import { openData, type TestData, tempDir } from './helpers.js';
import { configDbUrl } from './test-database.js';

/** A port nothing listens on right now: the master's worker port must be known up front. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

function configText(port: number, repo: string, dbUrl: string): string {
  return `import { buildFactory, defineConfig, git, shellCommand } from '@lathe/master';
export default defineConfig({
  workerPort: ${port},
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [
    {
      name: 'cproject',
      workerNames: ['w1'],
      factory: buildFactory(
        git({ repourl: ${JSON.stringify(repo)} }),
        shellCommand({ name: 'compile', command: ['make'], haltOnFailure: true }),
        shellCommand({ name: 'test', command: 'make test' }),
      ),
    },
    {
      name: 'long',
      workerNames: ['w1'],
      factory: buildFactory(
        // The first run hangs until the master is killed; the run after the restart passes.
        shellCommand({
          name: 'hold',
          command: 'if [ -f marker ]; then echo second run; exit 0; fi; touch marker; echo first run; echo $$ > pid; exec sleep 300',
        }),
      ),
    },
  ],
  db: { url: ${JSON.stringify(dbUrl)} },
});
`;
}

interface Status {
  readonly pid: number;
  readonly workers: readonly { readonly name: string; readonly connected: boolean }[];
}

for (const kind of ['stock', 'lathe'] as const) scenario(kind);

function scenario(kind: WorkerKind): void {
  describe(`lathe start after kill -9, with ${kind === 'stock' ? 'a stock buildbot-worker 3.7' : 'a Lathe worker'}`, {
    skip: !workerAvailable(kind),
  }, () => {
    const tmp = tempDir(`lathe-restart-${kind}-`);
    const repo = join(tmp.path, 'repo');
    const dir = join(tmp.path, 'master');
    const workerDir = join(tmp.path, 'worker');
    const pids = new Set<number>();
    let worker: TestWorker | undefined;
    let db: TestData | undefined;

    before(async () => {
      createProject(repo);
      const port = await freePort();
      const created = await lathe(['create-master', dir, '--worker-port', String(port)]);
      assert.equal(created.code, 0, created.stderr);
      writeFileSync(join(dir, 'master.config.ts'), configText(port, repo, await configDbUrl(dir)));
      // A short reconnection delay: the worker must find the restarted master by itself,
      // and quickly enough for the test.
      worker = createWorker(kind, workerDir, 'w1', 'pw-1', port, { maxDelay: 5 });
    });

    after(async () => {
      await worker?.kill();
      const current = existsSync(join(dir, 'lathe.pid'))
        ? Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'))
        : 0;
      if (current) pids.add(current);
      for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
      await db?.close();
      tmp.cleanup();
    });

    async function start(): Promise<number> {
      const r = await lathe(['start', dir], { timeoutMs: 120_000 });
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const pid = Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'));
      pids.add(pid);
      return pid;
    }

    async function status(): Promise<Status> {
      const r = await lathe(['status', dir, '--json']);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as Status;
    }

    async function connected(): Promise<boolean> {
      return (await status()).workers.some((w) => w.name === 'w1' && w.connected);
    }

    async function stepLog(data: TestData, buildid: number, step: string): Promise<string[]> {
      const s = (await data.data.steps.forBuild(buildid)).find((x) => x.name === step);
      if (!s) return [];
      const l = (await data.data.logs.forStep(s.id)).find((x) => x.name === 'stdio');
      if (!l) return [];
      const row = await data.data.logs.get(l.id);
      return row && row.numLines > 0 ? data.data.logs.lines(l.id, 0, row.numLines - 1) : [];
    }

    it('marks the interrupted build, runs its request again, keeps the records, and the worker reconnects', async () => {
      const first = await start();
      worker!.start();
      await waitFor(connected, 60_000, 'the worker to connect');

      // Something recorded before the crash: a whole C project build with its logs.
      const built = await lathe(['force', 'cproject', '--dir', dir, '--timeout', '120'], {
        timeoutMs: 150_000,
      });
      assert.equal(built.code, 0, `${built.stdout}\n${built.stderr}`);

      const forced = await lathe(['force', 'long', '--dir', dir, '--no-wait']);
      assert.equal(forced.code, 0, forced.stderr);
      const brid = Number(/build request (\d+)/.exec(forced.stdout)?.[1]);
      assert.ok(brid > 0, forced.stdout);
      const pidFile = join(workerDir, 'long', 'build', 'pid');
      await waitFor(() => existsSync(pidFile), 60_000, 'the long command to start');
      const holdPid = Number(readFileSync(pidFile, 'utf8'));
      pids.add(holdPid);

      db = await openData(join(dir, 'state.sqlite'));
      const data = db;
      const [cbuild] = await data.data.builds.latestForBuilder(
        await data.data.builders.findOrCreate('cproject'),
        1,
      );
      assert.ok(cbuild);
      assert.equal(cbuild.results, SUCCESS);
      const cTestLog = await stepLog(data, cbuild.id, 'test');
      assert.ok(cTestLog.includes('oall tests passed'), cTestLog.join('\n'));
      // Only output the master has written down can survive a kill -9.
      const [interrupted] = await data.data.builds.forRequest(brid);
      assert.ok(interrupted);
      await waitFor(
        async () => (await stepLog(data, interrupted.id, 'hold')).includes('ofirst run'),
        30_000,
        'the first run to be logged',
      );

      process.kill(first, 'SIGKILL');
      await waitFor(() => !alive(first), 10_000, 'the master to die');
      // Both workers stop a command whose master went away (Buildbot's stopCommandOnShutdown).
      await waitFor(() => !alive(holdPid), 30_000, 'the worker to kill the command of the lost build');

      const second = await start();
      assert.notEqual(second, first);
      await waitFor(connected, 60_000, 'the worker to reconnect by itself');
      assert.ok(worker!.running, 'the same worker process, never restarted');
      assert.match(
        readFileSync(join(dir, 'lathe.log'), 'utf8'),
        /recovered from an unclean stop: 1 build\(s\) marked interrupted \(RETRY\), 1 build request\(s\) queued again/,
      );

      await waitFor(
        async () => (await data.data.buildrequests.get(brid))?.complete === true,
        120_000,
        'the request to run again and complete',
      );
      const request = await data.data.buildrequests.get(brid);
      assert.equal(request?.results, SUCCESS);
      const builds = await data.data.builds.forRequest(brid);
      assert.deepEqual(
        builds.map((b) => b.results),
        [RETRY, SUCCESS],
      );
      assert.equal(builds[0]!.stateString, INTERRUPTED_STATE);
      const [hold] = await data.data.steps.forBuild(builds[0]!.id);
      assert.equal(hold?.results, RETRY, 'the open step is closed too');
      const holdLogs = await data.data.logs.forStep(hold!.id);
      assert.ok(holdLogs.length > 0 && holdLogs.every((l) => l.complete), 'and its logs');
      assert.ok(
        (await stepLog(data, builds[0]!.id, 'hold')).includes('ofirst run'),
        'the old output is kept',
      );
      assert.ok((await stepLog(data, builds[1]!.id, 'hold')).includes('osecond run'));

      const again = await data.data.builds.get(cbuild.id);
      assert.deepEqual(again, cbuild, 'the earlier build is untouched');
      assert.deepEqual(await stepLog(data, cbuild.id, 'test'), cTestLog);

      const stopped = await lathe(['stop', dir, '--timeout', '60'], { timeoutMs: 90_000 });
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.ok(!alive(second));
    });
  });
}
