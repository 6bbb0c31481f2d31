import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  AlreadyRunningError,
  claimPidFile,
  isAlive,
  isDaemonProcess,
  readPid,
  releasePidFile,
  runningPid,
} from '../src/pid-file.js';

const sleeper: { what: string; cmdline: RegExp } = { what: 'a sleeper', cmdline: /lathe-test-sleeper/ };

/** A process whose command line names it a sleeper (its argument), until killed. */
function startSleeper(): { pid: number; stop: () => Promise<void> } {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'lathe-test-sleeper'], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('pid files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-daemon-pid-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a pid, and nothing from a missing or garbled file', () => {
    const path = join(dir, 'read.pid');
    assert.equal(readPid(path), undefined);
    writeFileSync(path, '1234\n');
    assert.equal(readPid(path), 1234);
    writeFileSync(path, 'not a pid\n');
    assert.equal(readPid(path), undefined);
    writeFileSync(path, '-5\n');
    assert.equal(readPid(path), undefined);
  });

  it('claims a free or stale pid file, releases only its own', () => {
    const path = join(dir, 'claim.pid');
    claimPidFile(path, sleeper);
    assert.equal(readPid(path), process.pid);
    claimPidFile(path, sleeper); // this process's own claim is no obstacle
    releasePidFile(path);
    assert.ok(!existsSync(path));

    writeFileSync(path, '999999999\n'); // no such process: stale
    claimPidFile(path, sleeper);
    assert.equal(readPid(path), process.pid);
    writeFileSync(path, '999999999\n');
    releasePidFile(path); // not ours: left alone
    assert.equal(readFileSync(path, 'utf8'), '999999999\n');
  });

  it('refuses a pid file held by a running daemon, but not one whose pid went to another program', async () => {
    const path = join(dir, 'held.pid');
    const daemon = startSleeper();
    try {
      writeFileSync(path, `${daemon.pid}\n`);
      assert.equal(runningPid(path, sleeper), daemon.pid);
      assert.ok(isDaemonProcess(daemon.pid, sleeper));
      assert.throws(
        () => claimPidFile(path, sleeper),
        (err: unknown) =>
          err instanceof AlreadyRunningError &&
          err.pid === daemon.pid &&
          err.message === `a sleeper is already running here (pid ${daemon.pid}, ${path})`,
      );
      if (existsSync(`/proc/${daemon.pid}/cmdline`)) {
        const other = { what: 'a master', cmdline: /lathe-master-that-is-not-running/ };
        assert.equal(runningPid(path, other), undefined, 'a reused pid is not the daemon');
        claimPidFile(path, other);
        assert.equal(readPid(path), process.pid);
      }
    } finally {
      await daemon.stop();
    }
    assert.ok(!isAlive(daemon.pid));
    assert.ok(!isDaemonProcess(daemon.pid, sleeper));
  });
});
