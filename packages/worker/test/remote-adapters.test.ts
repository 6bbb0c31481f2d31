import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  type CallableRef,
  callableRemoteObjects,
  masterCommandRef,
  remoteReader,
  remoteWriter,
} from '../src/connection/remote-adapters.js';
import { WorkerFailure } from '../src/protocol/failure.js';
import { isTuple } from '../src/protocol/values.js';
import { Bot } from '../src/worker/bot.js';
import { tempDir } from './helpers.js';

/** A remote reference that records calls and answers from a table. */
class FakeRef implements CallableRef {
  readonly calls: Array<[string, unknown[]]> = [];
  constructor(private readonly answers: Record<string, (args: unknown[]) => unknown> = {}) {}
  async callRemote(method: string, ...args: unknown[]): Promise<unknown> {
    this.calls.push([method, args]);
    return this.answers[method]?.(args) ?? null;
  }
}

describe('PB remote adapters', () => {
  it('turn writer and reader calls into callRemote', async () => {
    const w = new FakeRef();
    const writer = remoteWriter(w);
    await writer.write(new Uint8Array([1, 2]));
    await writer.close();
    assert.deepEqual(
      w.calls.map(([m]) => m),
      ['write', 'close'],
    );
    let served = false;
    const r = new FakeRef({
      read: () => {
        const data = served ? new Uint8Array() : new Uint8Array([7]);
        served = true;
        return data;
      },
    });
    const reader = remoteReader(r);
    assert.deepEqual(await reader.read(10), new Uint8Array([7]));
    assert.deepEqual(r.calls[0], ['read', [10]]);
    assert.throws(() => remoteWriter({}), /not a remote reference/);
  });

  it('carry a whole command through fake PB references', async () => {
    const basedir = tempDir();
    const bot = new Bot({ basedir, remotes: callableRemoteObjects, batching: { maxDelayMs: 10 } });
    const builder = bot.setBuilderList([['demo', 'demo']]).get('demo')!;
    mkdirSync(join(basedir, 'demo/build'), { recursive: true });
    writeFileSync(join(basedir, 'demo/build/f.txt'), 'payload');
    const writer = new FakeRef();
    let completed!: () => void;
    const done = new Promise<void>((r) => {
      completed = r;
    });
    const cmd = new FakeRef({
      complete: () => {
        completed();
        return null;
      },
    });
    builder.startCommand(
      masterCommandRef(cmd, (f) => ({ wrapped: f.pyType })),
      '4',
      'uploadFile',
      {
        workdir: 'build',
        workersrc: 'f.txt',
        writer,
        maxsize: null,
        blocksize: 262144,
        keepstamp: true,
      },
    );
    await done;
    assert.deepEqual(
      writer.calls.map(([m]) => m),
      ['write', 'close', 'utime'],
    );
    assert.equal(Buffer.from(writer.calls[0]![1][0] as Uint8Array).toString(), 'payload');
    assert.ok(isTuple(writer.calls[2]![1][0]));
    assert.deepEqual(cmd.calls.at(-1), ['complete', [null]]);
    const updates = cmd.calls.filter(([m]) => m === 'update').flatMap(([, [list]]) => list as unknown[]);
    assert.deepEqual(
      updates.map((u) => Object.keys((u as [Record<string, unknown>, number])[0])[0]),
      ['header', 'rc', 'elapsed'],
    );
    assert.equal(readFileSync(join(basedir, 'demo/build/f.txt'), 'utf8'), 'payload');
  });

  it('wraps a failure for complete', async () => {
    const cmd = new FakeRef();
    const ref = masterCommandRef(cmd, (f) => ({ wrapped: f.pyType }));
    await ref.complete(new WorkerFailure('builtins.RuntimeError', 'boom'));
    assert.deepEqual(cmd.calls, [['complete', [{ wrapped: 'builtins.RuntimeError' }]]]);
  });
});
