// The worker port against a scripted worker written with @lathe/pb: the exact attach
// sequence and argument forms, the remote command protocol (updates before the startCommand
// answer, batched updates, logfiles, failures, decrefs), duplicate arbitration with a dead
// old connection, keepalive timeout, worker-requested shutdown, login throttling, and what
// happens to a running build when the master stops. This is also how a Lathe worker connects.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  CopyableFailure,
  connect,
  Kwargs,
  type PBConnection,
  PyTuple,
  Referenceable,
  RemoteError,
  type RemoteReference,
  tuple,
} from '@lathe/pb';
import type { BusMessage } from '../src/bus/events.js';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { CANCELLED, EXCEPTION, RETRY, SUCCESS } from '../src/results.js';
import { type WorkerRuntime, withWorkers, workerHooks } from '../src/runtime.js';
import { LoginThrottle } from '../src/workers/pb/throttle.js';
import { waitFor } from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

type CommandHandler = (
  cmd: RemoteReference,
  id: string,
  name: string,
  args: Record<string, unknown>,
) => unknown;

class FakeBuilder extends Referenceable {
  onCommand: CommandHandler = () => null;
  readonly interrupts: string[] = [];
  remote_startBuild() {
    return null;
  }
  remote_startCommand(cmd: RemoteReference, id: string, name: string, args: Record<string, unknown>) {
    return this.onCommand(cmd, id, name, args);
  }
  remote_interruptCommand(id: string, why: string) {
    this.interrupts.push(`${id}:${why}`);
    return null;
  }
}

/** A worker's Bot as the login mind, recording what the master calls. */
class FakeBot extends Referenceable {
  readonly calls: string[] = [];
  readonly builders = new Map<string, FakeBuilder>();
  /** Never answer prints with these messages (a hung worker). */
  readonly hang = new Set<string>();
  tuplesSeen = true;
  remote_print(kw: Kwargs) {
    const message = kw instanceof Kwargs ? String(kw.values.message) : `positional:${String(kw)}`;
    this.calls.push(`print:${message}`);
    return this.hang.has(message) ? new Promise(() => {}) : null;
  }
  remote_getWorkerInfo() {
    this.calls.push('getWorkerInfo');
    return {
      version: 'fake-1',
      worker_commands: { shell: '3.1' },
      environ: { TOKEN: 'do-not-store' },
      host: 'h',
    };
  }
  remote_setBuilderList(list: unknown[]) {
    this.tuplesSeen &&= list.every((e) => e instanceof PyTuple);
    this.calls.push(`setBuilderList:${JSON.stringify(list)}`);
    const out: Record<string, FakeBuilder> = {};
    for (const [name] of list as [string, string][]) {
      const b = this.builders.get(name) ?? new FakeBuilder();
      this.builders.set(name, b);
      out[name] = b;
    }
    return out;
  }
  remote_shutdown() {
    this.calls.push('shutdown');
    return null;
  }
}

const SHELL_ARG_ORDER = [
  'workdir',
  'env',
  'want_stdout',
  'want_stderr',
  'logfiles',
  'timeout',
  'maxTime',
  'sigtermTime',
  'usePTY',
  'logEnviron',
  'initial_stdin',
  'interruptSignal',
  'command',
];

describe('worker port with a scripted PB worker', () => {
  const dir = tempDir('lathe-port-');
  let rt: WorkerRuntime;
  let master: Master;
  const conns: PBConnection[] = [];
  /** The bot of each worker's latest login. */
  const bots = new Map<string, FakeBot>();

  before(async () => {
    writeFileSync(
      join(dir.path, 'master.config.ts'),
      `import { buildFactory, defineConfig, git, shellCommand } from '${lathe}';
export default defineConfig({
  workers: [
    { name: 'w1', password: 'pw1' },
    { name: 'w2', password: 'pw2', keepalive: 0.3 },
    { name: 'w3', password: 'pw3' },
    { name: 'w4', password: 'pw4' },
    { name: 'w5', password: 'pw5' },
    { name: 'w6', password: 'pw6' },
    { name: 'w7', password: 'pw7' },
  ],
  builders: [
    {
      name: 'b1',
      workerNames: ['w1'],
      factory: buildFactory(
        shellCommand({ name: 'run', command: ['make', 'check'], logfiles: { results: 'out.txt' }, env: { CC: 'gcc' } }),
        shellCommand({ name: 'explode', command: 'true' }),
      ),
    },
    { name: 'b 2', workerNames: ['w1', 'w4'], factory: buildFactory(shellCommand({ command: 'sleep 100' })) },
    { name: 'b3', workerNames: ['w1'], workerBuilddir: 'custom/dir', factory: buildFactory(shellCommand({ command: 'x' })) },
    { name: 'gitb', workerNames: ['w6'], factory: buildFactory(git({ repourl: 'https://example.org/r.git', branch: 'dev' })) },
    { name: 'pingless', workerNames: ['w7'], factory: buildFactory(shellCommand({ command: 'x' })) },
    { name: 'serial', workerNames: ['w5'], collapseRequests: false, factory: buildFactory(shellCommand({ command: 'x' })) },
  ],
});
`,
    );
    rt = withWorkers(
      { basedir: dir.path, name: 'port-test' },
      { port: 0, host: '127.0.0.1', duplicateTimeoutMs: 300, logger: { info: () => {}, warn: () => {} } },
    );
    master = await startMaster(rt.options);
  });

  after(async () => {
    for (const c of conns) c.close();
    if (master) await master.stop().catch(() => {});
    dir.cleanup();
  });

  async function login(name: string, password: string, bot: FakeBot): Promise<RemoteReference> {
    const conn = await connect({ host: '127.0.0.1', port: rt.server.port });
    conns.push(conn);
    const avatar = await conn.login(name, password, bot);
    bots.set(name, bot);
    return avatar;
  }

  it('attaches in Buildbot order with Buildbot argument forms before answering respond', async () => {
    const bot = new FakeBot();
    await login('w1', 'pw1', bot);
    assert.deepEqual(bot.calls, [
      'print:attached',
      'getWorkerInfo',
      'setBuilderList:[["b1","b1"],["b 2","b_2"],["b3","custom/dir"]]',
      'print:attached',
      'print:attached',
      'print:attached',
    ]);
    assert.ok(bot.tuplesSeen, 'builder entries are tuples');
    const w1 = master.workers.get('w1')!;
    assert.equal(w1.connected, true, 'attached before the avatar came back');
    const row = await master.data.workers.getByName('w1');
    assert.equal(row?.info.version, 'fake-1');
    assert.equal(row?.info.environ, undefined);
  });

  it('runs commands: early updates, batched updates, logfiles, failures; references are released', async () => {
    // w1 from the previous test is still attached; its bot serves this build.
    const conn = rt.server.connection('w1')!;
    const fake = bots.get('w1')!;
    const builder = fake.builders.get('b1')!;
    const seenArgs: Record<string, unknown>[] = [];
    const baseline = conn.broker.exportedCount;
    builder.onCommand = (cmd, id, name, args) => {
      seenArgs.push(args);
      assert.equal(name, 'shell');
      assert.match(id, /^\d+$/);
      if (seenArgs.length === 1) {
        // Everything arrives before the startCommand answer, as a fast command does with Python.
        void cmd.callRemote('update', [[{ header: 'make check\n' }, 0]]);
        void cmd
          .callRemote('update', [
            [{ stdout: 'compiling\nhalf a ' }, 1],
            [{ stdout: 'line\n', stderr: 'warning: x\n' }, 2],
            [{ log: tuple('results', 'PASS: 3\n') }, 3],
            [{ log: tuple('not-watched', 'ignored\n') }, 1],
          ])
          .then((max) => maxNumbers.push(max as number));
        void cmd.callRemote('update', [[{ rc: 0 }, 4]]);
        void cmd.callRemote('update', [[{ elapsed: 0.5 }, 5]]);
        void cmd.callRemote('complete', null).then(() => cmd.release());
      } else {
        setTimeout(() => {
          void cmd
            .callRemote('complete', new CopyableFailure(new RangeError('env is broken'), false))
            .then(() => cmd.release());
        }, 10);
      }
      return null;
    };
    const maxNumbers: number[] = [];
    const { buildrequestid } = await forceBuild(master, { builder: 'b1' });
    const request = await waitForRequest(master, buildrequestid, 10_000);
    assert.equal(request.results, EXCEPTION);
    assert.deepEqual(maxNumbers, [3]);
    assert.deepEqual(Object.keys(seenArgs[0]!), SHELL_ARG_ORDER);
    assert.deepEqual(seenArgs[0]!.command, ['make', 'check']);
    assert.deepEqual(seenArgs[0]!.env, { CC: 'gcc' });
    assert.deepEqual(seenArgs[0]!.logfiles, { results: 'out.txt' });
    assert.equal(seenArgs[0]!.timeout, 1200);

    const [build] = await master.data.builds.forRequest(buildrequestid);
    const steps = await master.data.steps.forBuild(build!.id);
    assert.deepEqual(
      steps.map((s) => [s.name, s.results]),
      [
        ['run', SUCCESS],
        ['explode', EXCEPTION],
      ],
    );
    const logs = await master.data.logs.forStep(steps[0]!.id);
    const text = async (name: string) => {
      const l = logs.find((x) => x.name === name)!;
      return master.data.logs.lines(l.id, 0, (await master.data.logs.get(l.id))!.numLines - 1);
    };
    assert.deepEqual(await text('stdio'), [
      'hmake check',
      'ocompiling',
      'ohalf a line',
      'ewarning: x',
      'hprogram finished with exit code 0',
    ]);
    assert.deepEqual(await text('results'), ['oPASS: 3']);
    assert.deepEqual(
      logs.map((l) => l.name),
      ['stdio', 'results'],
      'no log for a file the step did not watch',
    );
    const errLog = (await master.data.logs.forStep(steps[1]!.id)).find((l) => l.name === 'err.text');
    assert.ok(errLog, 'the exception is logged');
    const errLines = await master.data.logs.lines(errLog.id, 0, 0);
    assert.match(errLines[0]!, /env is broken/);
    await waitFor(
      () => conn.broker.exportedCount === baseline,
      2000,
      'the command references to be released',
    );
  });

  it('drops an old connection that does not answer, and attaches the new one', async () => {
    const old = bots.get('w1')!;
    old.hang.add('master got a duplicate connection');
    const oldConn = rt.server.connection('w1')!;
    const bot = new FakeBot();
    await login('w1', 'pw1', bot);
    assert.equal(oldConn.connected, false);
    assert.notEqual(rt.server.connection('w1'), oldConn);
    assert.ok(old.calls.includes('print:master got a duplicate connection'));
    assert.equal(master.workers.get('w1')!.connected, true);
  });

  it('drops a worker that stops answering keepalives', async () => {
    const bot = new FakeBot();
    bot.hang.add('keepalive');
    await login('w2', 'pw2', bot);
    assert.equal(master.workers.get('w2')!.connected, true);
    await waitFor(() => !master.workers.get('w2')!.connected, 3000, 'the keepalive timeout');
    assert.ok(bot.calls.includes('print:keepalive'));
  });

  it('shuts a worker down when it asks to, once idle', async () => {
    const bot = new FakeBot();
    const avatar = await login('w4', 'pw4', bot);
    assert.equal(await avatar.callRemote('keepalive'), null);
    await avatar.callRemote('shutdown');
    await waitFor(() => bot.calls.includes('shutdown'), 2000, 'the master to call shutdown');
    const row = await master.data.workers.getByName('w4');
    assert.equal(row?.graceful, true);
    assert.equal(master.workers.get('w4')!.isAvailable(), false, 'no new builds while shutting down');
  });

  it('runs one build per builder per worker at a time', async () => {
    const bot = new FakeBot();
    await login('w5', 'pw5', bot);
    const builder = bot.builders.get('serial')!;
    const held: RemoteReference[] = [];
    builder.onCommand = (cmd) => {
      held.push(cmd);
      return null;
    };
    const a = await forceBuild(master, { builder: 'serial' });
    const b = await forceBuild(master, { builder: 'serial' });
    await waitFor(() => held.length === 1, 5000, 'the first command');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(held.length, 1, 'the second build waits although the worker has no maxBuilds');
    assert.deepEqual(await master.data.builds.forRequest(b.buildrequestid), []);
    const finish = async (cmd: RemoteReference) => {
      await cmd.callRemote('update', [[{ rc: 0 }, 0]]);
      await cmd.callRemote('complete', null);
    };
    await finish(held[0]!);
    assert.equal((await waitForRequest(master, a.buildrequestid, 5000)).results, SUCCESS);
    await waitFor(() => held.length === 2, 5000, 'the second command');
    await finish(held[1]!);
    assert.equal((await waitForRequest(master, b.buildrequestid, 5000)).results, SUCCESS);
  });

  it("sends the commands and arguments of Buildbot 3.7's Git step for a first checkout", async () => {
    const bot = new FakeBot();
    await login('w6', 'pw6', bot);
    const sent: [string, Record<string, unknown>][] = [];
    const sha = 'a'.repeat(40);
    bot.builders.get('gitb')!.onCommand = (cmd, _id, name, args) => {
      sent.push([name, args]);
      const argv = (args.command as string[] | undefined)?.join(' ') ?? '';
      const updates: Record<string, unknown>[] = [];
      if (argv === 'git --version') updates.push({ stdout: 'git version 2.39.5\n' });
      if (argv === 'git rev-parse HEAD') updates.push({ stdout: `${sha}\n` });
      // No .buildbot-patched, no workdir yet: stat and listdir fail with ENOENT.
      updates.push({ rc: name === 'shell' ? 0 : 2 });
      void (async () => {
        for (const u of updates) await cmd.callRemote('update', [[u, 0]]);
        await cmd.callRemote('complete', null);
        cmd.release();
      })();
      return null;
    };
    const { buildrequestid } = await forceBuild(master, { builder: 'gitb' });
    assert.equal((await waitForRequest(master, buildrequestid, 5000)).results, SUCCESS);
    assert.deepEqual(
      sent.map(([name, args]) =>
        name === 'shell' ? (args.command as string[]).join(' ') : `${name} ${JSON.stringify(args)}`,
      ),
      [
        'git --version',
        'stat {"file":"build/.buildbot-patched","logEnviron":false}',
        'listdir {"dir":"build"}',
        'git clone --branch dev https://example.org/r.git . --progress',
        'git rev-parse HEAD',
      ],
    );
    const [, cloneArgs] = sent[3]!;
    assert.deepEqual(cloneArgs, {
      workdir: 'build',
      env: {},
      want_stdout: 1,
      want_stderr: 1,
      logfiles: {},
      timeout: 1200,
      maxTime: null,
      sigtermTime: 1,
      usePTY: false,
      logEnviron: true,
      initial_stdin: null,
      command: ['git', 'clone', '--branch', 'dev', 'https://example.org/r.git', '.', '--progress'],
    });
    assert.deepEqual(Object.keys(cloneArgs), [...SHELL_ARG_ORDER.filter((k) => k !== 'interruptSignal')]);
    const [build] = await master.data.builds.forRequest(buildrequestid);
    assert.deepEqual((await master.data.builds.properties(build!.id)).got_revision, [sha, 'Git']);
  });

  it('ends a stopped build even when its worker never answers the ping', async () => {
    const bot = new FakeBot();
    await login('w7', 'pw7', bot);
    bot.hang.add('ping');
    const { buildrequestid } = await forceBuild(master, { builder: 'pingless' });
    await waitFor(() => bot.calls.includes('print:ping'), 5000, 'the ping');
    const [running] = rt.runner.running().filter((b) => b.buildrequestid === buildrequestid);
    assert.ok(running);
    rt.runner.stopBuild(running.buildid, 'no answer');
    assert.equal(await running.finished, CANCELLED);
    assert.equal((await master.data.steps.forBuild(running.buildid)).length, 0, 'no step ran');
  });

  it('throttles a peer that keeps guessing a password', async () => {
    const conn = await connect({ host: '127.0.0.1', port: rt.server.port });
    conns.push(conn);
    for (let i = 0; i < 5; i++) await assert.rejects(conn.login('w3', `guess-${i}`), RemoteError);
    const refusedBefore = rt.server.throttle.refused;
    await assert.rejects(conn.login('w3', 'pw3', new FakeBot()), (err: unknown) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.remoteType, 'twisted.cred.error.UnauthorizedLogin');
      return true;
    });
    assert.equal(rt.server.throttle.refused, refusedBefore + 1, 'refused by the throttle, not the checker');
    assert.equal(master.workers.get('w3')!.connected, false);
  });

  it('keeps no throttle records for names that are not configured workers', async () => {
    const conn = await connect({ host: '127.0.0.1', port: rt.server.port });
    conns.push(conn);
    const recorded = rt.server.throttle.size;
    for (let i = 0; i < 3; i++) await assert.rejects(conn.login(`nobody-${i}`, 'guess'), RemoteError);
    assert.equal(rt.server.throttle.size, recorded);
  });

  it('ends a running build RETRY and gives its request back when the master stops', async () => {
    const bot = bots.get('w1')!;
    const builder = bot.builders.get('b 2')!;
    let started = false;
    builder.onCommand = () => {
      started = true;
      return null; // and never completes
    };
    const events: BusMessage[] = [];
    master.bus.subscribe('build.finished', (m) => void events.push(m));
    master.bus.subscribe('buildrequest.unclaimed', (m) => void events.push(m));
    await forceBuild(master, { builder: 'b 2' });
    await waitFor(() => started, 5000, 'the command to start');
    await master.stop();
    const finished = events.find((e) => e.kind === 'build.finished');
    assert.ok(finished);
    assert.equal((finished.payload as { results: number }).results, RETRY);
    assert.ok(events.some((e) => e.kind === 'buildrequest.unclaimed'));
  });
});

describe('workerHooks, as a runner that starts the Master itself uses them', () => {
  const dir = tempDir('lathe-hooks-');
  after(() => dir.cleanup());

  it('adds the port after start, runs a build, cancels builds and removes it before stop', async () => {
    writeFileSync(
      join(dir.path, 'master.config.ts'),
      `import { buildFactory, defineConfig, shellCommand } from '${lathe}';
export default defineConfig({
  workerPort: 'tcp:0:interface=127.0.0.1',
  workers: [{ name: 'w', password: 'p' }],
  builders: [{ name: 'b', workerNames: ['w'], factory: buildFactory(shellCommand({ command: 'x' })) }],
});
`,
    );
    const hooks = workerHooks();
    const lines: string[] = [];
    const master = await startMaster({ basedir: dir.path, name: 'hooks', buildStarter: hooks.buildStarter });
    const port = hooks.service((l) => lines.push(l));
    await master.addService(port);
    const conn = await connect({ host: '127.0.0.1', port: hooks.server.port });
    try {
      const bot = new FakeBot();
      await conn.login('w', 'p', bot);
      const commands: RemoteReference[] = [];
      bot.builders.get('b')!.onCommand = (cmd) => {
        commands.push(cmd);
        if (commands.length === 1)
          void cmd.callRemote('update', [[{ rc: 0 }, 0]]).then(() => cmd.callRemote('complete', null));
        return null;
      };
      const first = await forceBuild(master, { builder: 'b' });
      assert.equal((await waitForRequest(master, first.buildrequestid, 5000)).results, SUCCESS);
      const second = await forceBuild(master, { builder: 'b' });
      await waitFor(() => commands.length === 2, 5000, 'the second command');
      const cancelled = hooks.cancelBuilds(master, 'operator stop');
      await waitFor(() => bot.builders.get('b')!.interrupts.length === 1, 5000, 'the interrupt');
      assert.match(bot.builders.get('b')!.interrupts[0]!, /^\d+:operator stop$/);
      await commands[1]!.callRemote('update', [[{ rc: -1 }, 0]]);
      await commands[1]!.callRemote('complete', null);
      await cancelled;
      assert.equal((await waitForRequest(master, second.buildrequestid, 5000)).results, CANCELLED);
      assert.ok(lines.some((l) => l.includes('worker w attached')));
    } finally {
      assert.equal(await master.removeService(port), true);
      conn.close();
      await master.stop();
    }
  });
});

describe('a reconfig removing a builder while its build runs (workerHooks, as `lathe start`)', () => {
  const dir = tempDir('lathe-removed-builder-');
  after(() => dir.cleanup());

  it('cancels the build; a command the worker never completes is ended when the worker drops the builder', async () => {
    const config = (builders: string) => `import { buildFactory, defineConfig, shellCommand } from '${lathe}';
export default defineConfig({
  workerPort: 'tcp:0:interface=127.0.0.1',
  workers: [{ name: 'w', password: 'p' }],
  builders: [${builders}],
});
`;
    const keep = `{ name: 'keep', workerNames: ['w'], factory: buildFactory(shellCommand({ command: 'x' })) }`;
    const doomed = `{ name: 'doomed', workerNames: ['w'], factory: buildFactory(
      shellCommand({ name: 'hang', command: 'x' }),
      shellCommand({ name: 'cleanup', command: 'x', alwaysRun: true }),
    ) }`;
    const file = join(dir.path, 'master.config.ts');
    writeFileSync(file, config(`${keep}, ${doomed}`));
    const hooks = workerHooks({}, { removedBuilderGraceMs: 300 });
    const master = await startMaster({
      basedir: dir.path,
      name: 'removal',
      buildStarter: hooks.buildStarter,
    });
    await master.addService(hooks.service(() => {}));
    const conn = await connect({ host: '127.0.0.1', port: hooks.server.port });
    try {
      const bot = new FakeBot();
      await conn.login('w', 'p', bot);
      let started = 0;
      // Like buildbot-worker with a builder it is told to drop: interrupts are taken, but
      // the command never completes.
      bot.builders.get('doomed')!.onCommand = () => {
        started++;
        return null;
      };
      const { buildrequestid } = await forceBuild(master, { builder: 'doomed' });
      await waitFor(() => started === 1, 5000, 'the command to start');
      const [running] = hooks.runner.running().filter((b) => b.buildrequestid === buildrequestid);
      assert.ok(running);

      writeFileSync(file, config(keep));
      const result = await master.reconfig();
      assert.ok(result.ok, result.ok ? '' : result.error.message);
      assert.deepEqual(result.builders.removed, ['doomed']);
      assert.equal(
        bot.builders.get('doomed')!.interrupts.length,
        1,
        'interrupted while the worker knew the builder',
      );
      await waitFor(
        () => bot.calls.filter((c) => c.startsWith('setBuilderList')).length === 2,
        5000,
        'the new list',
      );
      let timer: NodeJS.Timeout | undefined;
      const ended = await Promise.race([
        running.finished,
        new Promise((r) => {
          timer = setTimeout(() => r('still building'), 10_000);
        }),
      ]);
      clearTimeout(timer);
      assert.equal(ended, CANCELLED);
      const request = await waitForRequest(master, buildrequestid, 5000);
      assert.equal(request.results, CANCELLED);
      assert.deepEqual(hooks.runner.running(), []);
    } finally {
      conn.close();
      await master.stop();
    }
  });
});

describe('login throttle', () => {
  it('locks a peer and name out after the free attempts, doubling, and forgets on success', () => {
    let now = 0;
    const t = new LoginThrottle({ freeAttempts: 2, baseDelayMs: 1000, now: () => now });
    t.failed('1.2.3.4', 'w');
    t.check('1.2.3.4', 'w');
    t.failed('1.2.3.4', 'w');
    assert.throws(() => t.check('1.2.3.4', 'w'));
    t.check('5.6.7.8', 'w');
    t.check('1.2.3.4', 'other');
    now = 1001;
    t.check('1.2.3.4', 'w');
    t.failed('1.2.3.4', 'w');
    now = 2500;
    assert.throws(() => t.check('1.2.3.4', 'w'), 'the second lock-out lasts 2 s');
    now = 3002;
    t.check('1.2.3.4', 'w');
    t.succeeded('1.2.3.4', 'w');
    t.failed('1.2.3.4', 'w');
    t.check('1.2.3.4', 'w');
    assert.equal(t.refused, 2);
  });

  it('keeps a bounded table under a flood of names, without delaying other names from the same address', () => {
    let now = 0;
    const t = new LoginThrottle({ freeAttempts: 1, maxRecords: 100, now: () => now });
    t.failed('10.0.0.1', 'w');
    assert.throws(() => t.check('10.0.0.1', 'w'), 'locked out');
    for (let i = 0; i < 5000; i++) {
      now++;
      t.failed('10.0.0.1', `guess-${i}`);
    }
    assert.equal(t.size, 100, 'the least recently failed records were forgotten');
    t.check('10.0.0.1', 'w2');
  });
});
