// The control channel end to end in one process: runMaster (as `lathe start --nodaemon`
// runs it) with a stand-in build runner, driven by the same functions `lathe force`,
// `status` and `stop` use. The stand-in runs each configured step's real run() with a
// context that executes shell commands locally, so the sample config create-master
// writes is exercised too. The real runner and worker protocol are another package's job.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, RemoteError } from '@lathe/pb';
import { createMaster } from '../src/cli/commands/create-master.js';
import { forceBuild } from '../src/cli/commands/force.js';
import { formatStatus } from '../src/cli/commands/status.js';
import { openControl } from '../src/cli/control-client.js';
import { runMaster } from '../src/cli/daemon/run-master.js';
import { main } from '../src/cli/main.js';
import { type MasterDir, readControlEndpoint } from '../src/cli/masterdir.js';
import { CONTROL_USERNAME, type MasterStatus } from '../src/control/protocol.js';
import { finishBuild } from '../src/data/lifecycle.js';
import type { Assignment, BuildStarter } from '../src/distributor/slots.js';
import type { Master } from '../src/master.js';
import type { Rendered } from '../src/properties/renderable.js';
import { CANCELLED, type Result, worstResult } from '../src/results.js';
import type { RemoteCommand, StepContext } from '../src/steps/contract.js';
import { tempDir } from './helpers.js';

/** Runs builds in this process; `hold` keeps a build running until released or cancelled. */
class StandInRunner implements BuildStarter {
  master!: Master;
  hold: Promise<void> | null = null;
  readonly running = new Set<AbortController>();

  constructor(private readonly workroot: string) {}

  async startBuild(a: Assignment): Promise<void> {
    const { data, masterid } = this.master;
    const { buildid, number } = await data.builds.add({
      builderid: a.builder.builderid,
      buildrequestid: a.request.id,
      workerid: a.worker.workerid,
      masterid,
    });
    void this.#run(a, buildid, number);
  }

  async #run(a: Assignment, buildid: number, number: number): Promise<void> {
    const { data, masterid } = this.master;
    const abort = new AbortController();
    this.running.add(abort);
    const dir = join(this.workroot, `${a.builder.name}-${number}`);
    let results: Result | null = null;
    for (const step of a.builder.config.factory.steps) {
      const { stepid } = await data.steps.add(buildid, step.name);
      await data.steps.start(stepid);
      let r: Result = abort.signal.aborted
        ? CANCELLED
        : await step.run(this.#context(a, dir, number, abort.signal));
      if (this.hold && r !== CANCELLED) {
        await Promise.race([this.hold, new Promise((res) => abort.signal.addEventListener('abort', res))]);
        if (abort.signal.aborted) r = CANCELLED;
      }
      await data.steps.finish(stepid, r);
      results = worstResult(results, r);
    }
    await finishBuild(data, { buildid, results: results ?? 0, masterid, buildrequestids: [a.request.id] });
    this.running.delete(abort);
    a.worker.release();
  }

  #context(a: Assignment, dir: string, number: number, signal: AbortSignal): StepContext {
    return {
      builderName: a.builder.name,
      buildNumber: number,
      workerName: a.worker.name,
      signal,
      getProperty: () => undefined,
      setProperty: () => {},
      addLog: async () => ({ write: async () => {}, finish: async () => {} }),
      setState: async () => {},
      setResultSummary: () => {},
      addUrl: async () => {},
      // This fake runs plain commands only: nothing to render, observe or measure.
      render: async <T>(value: T) => value as Rendered<T>,
      observeLog: () => {},
      closeLog: async () => {},
      setMetric: () => {},
      recordWarnings: () => {},
      recordTests: () => {},
      mutedTests: async () => new Set<string>(),
      recordTestHistory: async () => {},
      addAnnotation: async () => {},
      masterBasedir: dir,
      sourcePatch: async () => null,
      builds: {
        sources: [],
        request: async () => {
          throw new Error('this fake master cannot trigger builds');
        },
        watchBuilds: () => ({ stop: async () => {} }),
        wait: async () => CANCELLED,
        cancel: async () => {},
      },
      runCommand: async (cmd: RemoteCommand) => {
        const args = cmd.args as { command: string[]; workdir: string };
        const cwd = join(dir, args.workdir);
        mkdirSync(cwd, { recursive: true });
        // Without node:test's marker, or a nested `node --test` reports to us and exits 0.
        const { NODE_TEST_CONTEXT: _, ...env } = process.env;
        const r = spawnSync(args.command[0]!, args.command.slice(1), { cwd, env, encoding: 'utf8' });
        return { rc: r.status, interrupted: false, updates: {} };
      },
    };
  }

  cancelAll(): void {
    for (const a of this.running) a.abort();
  }
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('control channel with a running master', () => {
  const tmp = tempDir('lathe-control-');
  let dir: MasterDir;
  let runner: StandInRunner;
  let exited: Promise<number>;
  const log: string[] = [];

  before(async () => {
    dir = await createMaster(join(tmp.path, 'master'), { workerPort: 0 });
    runner = new StandInRunner(join(tmp.path, 'work'));
    let ready!: () => void;
    const up = new Promise<void>((r) => {
      ready = r;
    });
    exited = runMaster({
      dir,
      log: (l) => log.push(l),
      hooks: {
        buildStarter: runner,
        services: async (master) => {
          runner.master = master;
          // Stands in for the worker protocol: the local worker is connected.
          await master.workers
            .get('local-worker')!
            .attach({ disconnect: async () => {} }, { host: 'test box', admin: 'Tess Ter' });
          return [];
        },
        cancelBuilds: async () => runner.cancelAll(),
      },
      onReady: ready,
    });
    await up;
  });
  after(() => tmp.cleanup());

  it('force follows the sample build step by step and exits 0 on success', async () => {
    const c = capture();
    const code = await forceBuild(
      dir,
      { builder: 'sample', wait: true, properties: { color: 'blue' } },
      c.io,
    );
    assert.deepEqual(c.err, []);
    assert.equal(code, 0);
    assert.deepEqual(c.out, [
      'buildset 1 submitted: build request 1 for "sample" is pending',
      'request claimed by the master, starting a build',
      'build #1 started',
      '  step "fetch": SUCCESS',
      '  step "node version": SUCCESS',
      '  step "test": SUCCESS',
      'build #1 finished: SUCCESS',
      'result: SUCCESS',
    ]);
  });

  it('status shows a busy worker and the running build; a failed build exits 1', async () => {
    let release!: () => void;
    runner.hold = new Promise((r) => {
      release = r;
    });
    // Make the "test" step fail: break the sample project.
    const project = join(dir.basedir, 'sample-project', 'greet.mjs');
    const original = readFileSync(project, 'utf8');
    writeFileSync(project, original.replace('Hello', 'Goodbye'));
    const c = capture();
    const forced = forceBuild(dir, { builder: 'sample', wait: true }, c.io);
    const session = await openControl(dir);
    let st: MasterStatus;
    try {
      for (;;) {
        st = await session.avatar.callRemote<MasterStatus>('status');
        if (st.builds.length > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      session.close();
    }
    assert.deepEqual(
      st.workers.map((w) => [w.name, w.state, w.runningBuilds, w.info.host]),
      [['local-worker', 'busy', 1, 'test box']],
    );
    assert.deepEqual(
      st.builds.map((b) => [b.builder, b.number, b.worker]),
      [['sample', 2, 'local-worker']],
    );
    assert.ok(st.canRunBuilds && st.accepting);
    const text = formatStatus(st, st.startedAt);
    assert.match(text, /^ {2}local-worker +busy +1\/1 builds {2}host=test box, admin=Tess Ter$/m);
    assert.match(text, /^ {2}sample #2 \(build id 2\) on local-worker, 0s(, step "fetch")?: /m);
    release();
    runner.hold = null;
    assert.equal(await forced, 1);
    writeFileSync(project, original);
    assert.ok(c.out.includes('  step "test": FAILURE'), c.out.join('\n'));
    assert.equal(c.out.at(-1), 'result: FAILURE');
  });

  it('refuses logins with a wrong secret or another user name', async () => {
    const endpoint = readControlEndpoint(dir.controlFile)!;
    const secret = readFileSync(dir.secretFile, 'utf8').trim();
    for (const [user, password] of [
      [CONTROL_USERNAME, `${secret}x`],
      ['admin', secret],
    ] as const) {
      const conn = await connect({ host: endpoint.host, port: endpoint.port });
      await assert.rejects(conn.login(user, password), (e: unknown) => {
        assert.ok(e instanceof RemoteError && e.check('twisted.cred.error.UnauthorizedLogin'));
        return true;
      });
      conn.close();
    }
  });

  it('a control port unreachable for another reason than "refused" says what failed, not "not running"', async () => {
    const saved = readFileSync(dir.controlFile, 'utf8');
    const endpoint = readControlEndpoint(dir.controlFile)!;
    // A broadcast address: connecting fails at once (ENETUNREACH or EACCES), never "refused".
    writeFileSync(dir.controlFile, JSON.stringify({ ...endpoint, host: '255.255.255.255' }));
    try {
      const c = capture();
      assert.equal(await main(['status', dir.basedir], c.io), 1);
      assert.equal(c.err.length, 1, c.err.join('\n'));
      assert.match(
        c.err[0]!,
        new RegExp(
          `^lathe status: the master at .* runs \\(pid ${process.pid}\\), but its control port 255\\.255\\.255\\.255:${endpoint.port} cannot be reached: connect E[A-Z]+ `,
        ),
      );
    } finally {
      writeFileSync(dir.controlFile, saved);
    }
  });

  it('a graceful stop (SIGTERM) waits for the running build; a second signal cancels it', async () => {
    runner.hold = new Promise(() => {}); // this build only ends when cancelled
    const c = capture();
    const forced = forceBuild(dir, { builder: 'sample', wait: true }, c.io);
    while (runner.running.size === 0) await new Promise((r) => setTimeout(r, 20));

    process.kill(process.pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(
      log.some((l) => /stop: waiting for 1 running build/.test(l)),
      log.join('\n'),
    );
    // Shutting down: no new builds are accepted.
    const refused = capture();
    assert.equal(await forceBuild(dir, { builder: 'sample', wait: false }, refused.io), 1);
    assert.match(refused.err.join('\n'), /the master is shutting down and accepts no new builds/);

    process.kill(process.pid, 'SIGTERM');
    assert.equal(await forced, 1);
    assert.equal(c.out.at(-1), 'result: CANCELLED');
    assert.equal(await exited, 0);
    assert.equal(readControlEndpoint(dir.controlFile), undefined);
    assert.match(log.at(-1)!, /master stopped/);
  });
});

describe('runMaster start-up failures', () => {
  const tmp = tempDir('lathe-runfail-');
  after(() => tmp.cleanup());

  it('a part that fails to attach (e.g. a taken worker port) leaves no master, pid or control file', async () => {
    const dir = await createMaster(join(tmp.path, 'master'), { workerPort: 0 });
    const log: string[] = [];
    await assert.rejects(
      runMaster({
        dir,
        log: (l) => log.push(l),
        hooks: {
          services: async () => [
            {
              name: 'worker port',
              start: async () => {
                throw new Error('listen EADDRINUSE: address already in use 0.0.0.0:9989');
              },
              stop: async () => {},
            },
          ],
        },
      }),
      /EADDRINUSE/,
    );
    assert.ok(!existsSync(dir.pidFile));
    assert.ok(!existsSync(dir.controlFile));
    // The database was closed and the master marked stopped: a new start works at once.
    let ready!: () => void;
    const up = new Promise<void>((r) => {
      ready = r;
    });
    const exited = runMaster({ dir, log: (l) => log.push(l), onReady: ready });
    await up;
    assert.ok(existsSync(dir.controlFile));
    process.kill(process.pid, 'SIGTERM');
    assert.equal(await exited, 0);
  });
});
