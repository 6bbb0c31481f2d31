import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UnknownCommandError, type WorkerFailure } from '../src/protocol/failure.js';
import { Bot } from '../src/worker/bot.js';
import type { MasterCommandRef } from '../src/worker/running-command.js';
import { remotesFor, tempDir } from './helpers.js';

/** A master-side RemoteCommand stand-in: records calls in arrival order. */
class FakeRemoteCommand implements MasterCommandRef {
  readonly calls: Array<['update', unknown[]] | ['complete', WorkerFailure | null]> = [];
  private resolveComplete!: () => void;
  readonly completed = new Promise<void>((r) => {
    this.resolveComplete = r;
  });

  async update(wireUpdates: unknown[]): Promise<unknown> {
    this.calls.push(['update', wireUpdates]);
    return 0;
  }
  async complete(failure: WorkerFailure | null): Promise<unknown> {
    this.calls.push(['complete', failure]);
    this.resolveComplete();
    return null;
  }
  /** All updates as [key, value] pairs, flattened from the wire form. */
  get updates(): Array<[string, unknown]> {
    const out: Array<[string, unknown]> = [];
    for (const call of this.calls) {
      if (call[0] !== 'update') continue;
      for (const pair of call[1] as Array<[Record<string, unknown>, number]>) {
        assert.equal(pair[1], 0);
        const entries = Object.entries(pair[0]);
        assert.equal(entries.length, 1, 'one key per update dict');
        out.push(entries[0]!);
      }
    }
    return out;
  }
}

function makeBot(basedir: string, extra: Partial<ConstructorParameters<typeof Bot>[0]> = {}): Bot {
  return new Bot({ basedir, remotes: remotesFor({}), batching: { maxDelayMs: 20 }, ...extra });
}

describe('Bot', () => {
  it('answers getWorkerInfo with the keys of buildbot-worker 3.7 (bb-worker #0011)', () => {
    const basedir = tempDir();
    mkdirSync(join(basedir, 'info'));
    writeFileSync(join(basedir, 'info/admin'), 'Trace Capture <trace@example.invalid>\n');
    writeFileSync(join(basedir, 'info/host'), 'pbspec capture host\n');
    const osRelease = join(basedir, 'os-release');
    writeFileSync(osRelease, 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n# comment\nEMPTY=\n');
    const bot = makeBot(basedir, {
      numcpus: 2,
      osReleaseFile: osRelease,
      settings: { environment: { HOME: '/h', PATH: '/usr/bin:/bin', GONE: undefined } },
    });
    const info = bot.getWorkerInfo();
    assert.equal(info.admin, 'Trace Capture <trace@example.invalid>\n');
    assert.equal(info.host, 'pbspec capture host\n');
    assert.equal(info.os_pretty_name, 'Debian GNU/Linux 12 (bookworm)');
    assert.equal(info.os_id, 'debian');
    assert.ok(!('os_empty' in info));
    assert.deepEqual(info.environ, { HOME: '/h', PATH: '/usr/bin:/bin' });
    assert.equal(info.system, 'posix');
    assert.equal(info.basedir, basedir);
    assert.equal(info.numcpus, 2);
    assert.equal(typeof info.version, 'string');
    assert.deepEqual(Object.keys(info.worker_commands as object).sort(), [
      'cpdir',
      'downloadFile',
      'download_file',
      'glob',
      'listdir',
      'mkdir',
      'rmdir',
      'rmfile',
      'shell',
      'stat',
      'uploadDirectory',
      'uploadFile',
      'upload_directory',
      'upload_file',
    ]);
    assert.ok(Object.values(info.worker_commands as object).every((v) => v === '3.1'));
    assert.equal(info.delete_leftover_dirs, false);
    assert.deepEqual(bot.getCommands(), info.worker_commands);
    assert.equal(bot.getVersion(), info.version);
  });

  it('keeps builders in step with setBuilderList (bb-worker #0012-#0013)', () => {
    const basedir = tempDir();
    mkdirSync(join(basedir, 'old-builder'));
    const bot = makeBot(basedir, { deleteLeftoverDirs: true });
    const first = bot.setBuilderList([
      ['trybuilder', 'trybuilder'],
      ['demo', 'demo'],
    ]);
    assert.deepEqual([...first.keys()], ['trybuilder', 'demo']);
    assert.ok(statSync(join(basedir, 'demo')).isDirectory());
    assert.ok(statSync(join(basedir, 'trybuilder')).isDirectory());
    assert.ok(!existsSync(join(basedir, 'old-builder')), 'leftover directory deleted when configured');
    const second = bot.setBuilderList([['demo', 'demo-moved']]);
    assert.equal(second.get('demo'), first.get('demo'), 'an existing builder keeps its identity');
    assert.equal(second.get('demo')!.basedir, join(basedir, 'demo-moved'));
    assert.ok(existsSync(join(basedir, 'demo-moved')));
    assert.equal(second.size, 1);
  });

  it('accepts bytes names and rejects malformed builder lists', () => {
    const bot = makeBot(tempDir());
    const enc = (t: string) => new TextEncoder().encode(t);
    assert.deepEqual(
      [...bot.setBuilderList([[enc('b1'), enc('d1')] as unknown as [string, string]]).keys()],
      ['b1'],
    );
    assert.throws(
      () => bot.setBuilderList([['only-name'] as unknown as [string, string]]),
      /not a \(name, builddir\) pair/,
    );
  });

  it('keeps leftover directories unless told to delete them', () => {
    const basedir = tempDir();
    mkdirSync(join(basedir, 'old-builder'));
    makeBot(basedir).setBuilderList([['demo', 'demo']]);
    assert.ok(existsSync(join(basedir, 'old-builder')));
  });
});

describe('WorkerForBuilder commands', () => {
  it('sends batched updates then exactly one complete (bb-worker #0025-#0028)', async () => {
    const basedir = tempDir();
    const builder = makeBot(basedir)
      .setBuilderList([['demo', 'demo']])
      .get('demo')!;
    const ref = new FakeRemoteCommand();
    builder.startCommand(ref, '0', 'mkdir', { dir: 'build/subdir' });
    await ref.completed;
    assert.ok(existsSync(join(basedir, 'demo/build/subdir')));
    assert.deepEqual(
      ref.calls.map(([m]) => m),
      ['update', 'complete'],
    );
    assert.deepEqual(
      ref.updates.map(([k]) => k),
      ['rc', 'elapsed'],
    );
    assert.equal(ref.calls.at(-1)![1], null);
    await builder.whenIdle();
    assert.equal(builder.busy, false);
  });

  it('decodes bytes arguments sent by a master', async () => {
    const basedir = tempDir();
    const builder = makeBot(basedir)
      .setBuilderList([['demo', 'demo']])
      .get('demo')!;
    const ref = new FakeRemoteCommand();
    builder.startCommand(ref, '1', 'mkdir', { dir: new TextEncoder().encode('from-bytes') });
    await ref.completed;
    assert.ok(existsSync(join(basedir, 'demo/from-bytes')));
  });

  it('rejects unknown commands and missing args synchronously (bb-worker #0205-#0206)', () => {
    const builder = makeBot(tempDir())
      .setBuilderList([['demo', 'demo']])
      .get('demo')!;
    assert.throws(
      () => builder.startCommand(new FakeRemoteCommand(), '14', 'noSuchCommand', { foo: 'bar' }),
      (err: unknown) =>
        err instanceof UnknownCommandError &&
        err.pyType === 'buildbot_worker.base.UnknownCommand' &&
        err.message === "unrecognized WorkerCommand 'noSuchCommand'" &&
        err.parents.includes('twisted.spread.pb.Error'),
    );
    assert.throws(
      () => builder.startCommand(new FakeRemoteCommand(), '15', 'mkdir', {}),
      /mkdir is missing args: dir/,
    );
    assert.equal(builder.busy, false);
  });

  it('interrupts the running command on interruptCommand and completes normally', async () => {
    const builder = makeBot(tempDir())
      .setBuilderList([['demo', 'demo']])
      .get('demo')!;
    const ref = new FakeRemoteCommand();
    builder.startCommand(ref, '12', 'shell', {
      workdir: 'build',
      command: ['sleep', '30'],
      logEnviron: false,
    });
    assert.equal(builder.busy, true);
    await new Promise((r) => setTimeout(r, 100));
    builder.interruptCommand('12', 'interrupted by the test');
    await ref.completed;
    const keys = ref.updates.map(([k]) => k);
    assert.ok(keys.includes('rc') && !keys.includes('elapsed'));
    const header = ref.updates
      .filter(([k]) => k === 'header')
      .map(([, v]) => v)
      .join('');
    assert.ok(header.includes('command interrupted, attempting to kill\nprocess killed by signal 9\n'));
    await builder.whenIdle();
    assert.equal(builder.busy, false);
  });

  it('runs overlapping commands, as the master starts them (MultipleFileUpload globs in parallel)', async () => {
    const builder = makeBot(tempDir())
      .setBuilderList([['demo', 'demo']])
      .get('demo')!;
    const slow = new FakeRemoteCommand();
    builder.startCommand(slow, '1', 'shell', {
      workdir: 'build',
      command: ['sleep', '0.3'],
      logEnviron: false,
    });
    const fast = new FakeRemoteCommand();
    builder.startCommand(fast, '2', 'mkdir', { dir: 'x' });
    await fast.completed;
    assert.equal(builder.busy, true, 'the first command still runs');
    await slow.completed;
    assert.ok(
      slow.updates.some(([k, v]) => k === 'rc' && v === 0),
      'and completes normally',
    );
    await builder.whenIdle();
    assert.equal(builder.busy, false);
  });

  it('interrupts only the command it is asked to', async () => {
    const builder = makeBot(tempDir())
      .setBuilderList([['demo', 'demo']])
      .get('demo')!;
    const a = new FakeRemoteCommand();
    const b = new FakeRemoteCommand();
    builder.startCommand(a, '1', 'shell', { workdir: 'build', command: ['sleep', '30'], logEnviron: false });
    builder.startCommand(b, '2', 'shell', { workdir: 'build', command: ['sleep', '0.3'], logEnviron: false });
    builder.interruptCommand('1', 'test');
    await a.completed;
    await b.completed;
    assert.ok(a.updates.some(([k, v]) => k === 'rc' && v !== 0));
    assert.ok(b.updates.some(([k, v]) => k === 'rc' && v === 0));
  });

  it('lets a graceful shutdown wait for running commands', async () => {
    const bot = makeBot(tempDir());
    const builder = bot.setBuilderList([['demo', 'demo']]).get('demo')!;
    const ref = new FakeRemoteCommand();
    builder.startCommand(ref, '1', 'shell', {
      workdir: 'build',
      command: ['sleep', '0.3'],
      logEnviron: false,
    });
    assert.equal(bot.busy, true);
    const started = Date.now();
    await bot.whenIdle();
    assert.ok(Date.now() - started >= 250);
    assert.equal(bot.busy, false);
    assert.equal(ref.calls.at(-1)![0], 'complete');
  });

  it('stops every command when the connection is lost', async () => {
    const bot = makeBot(tempDir());
    const builder = bot.setBuilderList([['demo', 'demo']]).get('demo')!;
    const ref = new FakeRemoteCommand();
    builder.startCommand(ref, '1', 'shell', {
      workdir: 'build',
      command: ['sleep', '30'],
      logEnviron: false,
    });
    const started = Date.now();
    bot.stopAllCommands();
    await bot.whenIdle();
    assert.ok(Date.now() - started < 5000);
    assert.equal(bot.busy, false);
  });
});
