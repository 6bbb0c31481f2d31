// Back-pressure: a master that acknowledges output slowly slows the command down
// instead of letting the worker buffer everything the command prints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callableRemoteObjects } from '../src/connection/remote-adapters.js';
import { WorkerForBuilder } from '../src/worker/builder.js';
import type { MasterCommandRef } from '../src/worker/running-command.js';
import { tempDir } from './helpers.js';

/** A master whose `update` answers arrive only after `delayMs`, like a busy Buildbot master. */
class SlowMaster implements MasterCommandRef {
  inFlight = 0;
  peakInFlight = 0;
  received = 0;
  /** Bytes of stdout, counted as they arrive. */
  stdout = 0;
  readonly completed: Promise<void>;
  private done!: () => void;
  constructor(private readonly delayMs: number) {
    this.completed = new Promise((r) => {
      this.done = r;
    });
  }
  async update(wire: unknown[]): Promise<unknown> {
    let bytes = 0;
    for (const [dict] of wire as Array<[Record<string, unknown>, number]>) {
      for (const v of Object.values(dict)) if (typeof v === 'string') bytes += v.length;
      if (typeof dict.stdout === 'string') this.stdout += dict.stdout.length;
    }
    this.inFlight += bytes;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, this.delayMs));
    this.inFlight -= bytes;
    this.received += bytes;
    return 0;
  }
  async complete(): Promise<unknown> {
    this.done();
    return null;
  }
}

describe('flow control', () => {
  it('keeps unacknowledged output bounded when the master is slow', async () => {
    const dir = tempDir();
    const builder = new WorkerForBuilder('demo', { workerBasedir: dir, remotes: callableRemoteObjects });
    builder.setBuilddir('demo');
    const master = new SlowMaster(20);
    // 32 MiB of output in 100-byte lines: far more than the high-water mark.
    builder.startCommand(master, '1', 'shell', {
      workdir: 'build',
      command: [
        '/bin/sh',
        '-c',
        "yes 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' | head -c 33554432",
      ],
      logEnviron: false,
      timeout: 60,
    });
    await master.completed;
    // Every byte arrived, plus the newline the worker adds to an unterminated last line.
    assert.equal(master.stdout, 32 * 1024 * 1024 + 1);
    assert.ok(master.peakInFlight <= 4 * 1024 * 1024, `peak unacknowledged ${master.peakInFlight} bytes`);
  });
});
