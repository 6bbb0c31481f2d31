// What a worker or a property sends the master, bounded and kept in its place, on the
// parts alone: a remote command's updates (unknown keys, memory held per command) and
// master paths rendered from properties.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CommandLimitError, CommandRun } from '../src/process/command.js';
import { interpolate, prop } from '../src/properties/interpolate.js';
import { Properties } from '../src/properties/properties.js';
import { render } from '../src/properties/renderable.js';
import type { StepContext, StepLog } from '../src/steps/contract.js';
import { MasterPathError, masterPathOption } from '../src/steps/master-path.js';

class MemoryLog implements StepLog {
  text = '';
  async write(_stream: 'o' | 'e' | 'h', text: string): Promise<void> {
    this.text += text;
  }
  async finish(): Promise<void> {}
}

const logs = (stdio: StepLog) => ({ stdio, named: async () => null });

describe('remote command updates from an untrusted worker', () => {
  it('ignores keys no worker command sends and keeps output in logs, not in memory', async () => {
    const log = new MemoryLog();
    const run = new CommandRun('shell', logs(log), false);
    void run.update('stdout', 'out\n');
    void run.update('evil', 'x'.repeat(1000));
    void run.update('files', ['a', 'b']);
    void run.update('rc', 0);
    run.complete(null);
    const outcome = await run.done;
    assert.deepEqual(outcome.updates, { files: [['a', 'b']] });
    assert.equal(log.text, 'out\nprogram finished with exit code 0\n');
  });

  it('fails a command whose worker floods it faster than the master stores', async () => {
    let release!: () => void;
    const slow = new MemoryLog();
    const gate = new Promise<void>((r) => {
      release = r;
    });
    slow.write = async () => gate;
    const limits = { pendingBytes: 10_000, keptBytes: 1 << 20, collectedBytes: 1 << 20 };
    const run = new CommandRun('shell', logs(slow), false, limits);
    for (let i = 0; i < 100; i++) void run.update('stdout', 'y'.repeat(1000));
    await assert.rejects(
      run.done,
      (err: Error) => err instanceof CommandLimitError && err.limit === 'pendingBytes',
    );
    release();
  });

  it('bounds values kept for the step and stdout collected for it', async () => {
    const limits = { pendingBytes: 1 << 20, keptBytes: 1000, collectedBytes: 1000 };
    const kept = new CommandRun('listdir', logs(new MemoryLog()), false, limits);
    void kept.update(
      'files',
      Array.from({ length: 100 }, (_, i) => `file-${i}.txt`),
    );
    kept.complete(null);
    await assert.rejects(kept.done, /more than 1000 bytes of values kept for the step/);

    const collected = new CommandRun('shell', logs(new MemoryLog()), true, limits);
    for (let i = 0; i < 3; i++) void collected.update('stdout', 'z'.repeat(400));
    collected.complete(null);
    await assert.rejects(collected.done, /more than 1000 bytes of stdout collected for the step/);
  });
});

describe('master paths rendered from properties', () => {
  const basedir = '/srv/master';
  const ctxWith = (props: Record<string, unknown>) => {
    const properties = new Properties();
    for (const [k, v] of Object.entries(props)) properties.setProperty(k, v, 'Force Build Form');
    return {
      masterBasedir: basedir,
      render: (v: unknown) => render(v, { properties }),
    } as unknown as StepContext;
  };

  it('stay below the master directory; paths written in the config are taken as written', async () => {
    const dest = interpolate('uploads/%(prop:branch)s/out.bin');
    assert.equal(
      await masterPathOption(ctxWith({ branch: 'main' }), dest, 'masterdest'),
      '/srv/master/uploads/main/out.bin',
    );
    assert.equal(
      await masterPathOption(ctxWith({ branch: 'a/../b' }), dest, 'masterdest'),
      '/srv/master/uploads/b/out.bin',
    );
    for (const branch of ['../../..', '../../../etc', '../..']) {
      await assert.rejects(
        masterPathOption(ctxWith({ branch }), dest, 'masterdest'),
        MasterPathError,
        branch,
      );
    }
    for (const path of ['/etc/passwd', '~/.ssh/authorized_keys', '', '.', 'sub/..']) {
      await assert.rejects(
        masterPathOption(ctxWith({ path }), prop('path'), 'masterdest'),
        MasterPathError,
        path,
      );
    }
    assert.equal(await masterPathOption(ctxWith({}), '/var/www/out.bin', 'masterdest'), '/var/www/out.bin');
    assert.equal(
      await masterPathOption(ctxWith({}), '../www/out.bin', 'masterdest'),
      join(basedir, '../www/out.bin'),
    );
  });
});
