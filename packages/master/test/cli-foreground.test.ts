// `lathe start --nodaemon` (systemd, containers) and the daemon's rotating log.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MASTER_NODE_FLAGS, missingMasterFlags } from '../src/cli/daemon/node-flags.js';
import { RotatingLog } from '../src/cli/daemon/rotating-log.js';
import { escapeRe, lathe, MAIN, waitFor } from './cli-helpers.js';
import { tempDir } from './helpers.js';

describe('lathe start --nodaemon', () => {
  const tmp = tempDir('lathe-fg-');
  after(() => tmp.cleanup());

  it("adds only the master's Node flags the user did not set", () => {
    assert.deepEqual(missingMasterFlags([], ''), [...MASTER_NODE_FLAGS]);
    assert.deepEqual(
      missingMasterFlags(['--max-semi-space-size=8'], '--expose_gc'),
      [],
      "a flag given with another value, or with underscores in NODE_OPTIONS, is the user's choice",
    );
  });

  it('runs in the foreground, logs to stdout, survives a broken reconfig, stops on SIGINT', async () => {
    const dir = join(tmp.path, 'master');
    assert.equal((await lathe(['create-master', dir, '--worker-port', '0'])).code, 0);
    const child = spawn(process.execPath, [MAIN, 'start', dir, '--nodaemon'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor(() => /control port 127\.0\.0\.1:\d+/.test(out), 20_000, 'the master to start');
      assert.match(out, /^\d{4}-\d\d-\d\dT[\d:.]+Z master .* started \(pid \d+\)/m);
      assert.equal(Number(readFileSync(join(dir, 'lathe.pid'), 'utf8')), child.pid);
      assert.ok(!existsSync(join(dir, 'lathe.log')), 'the foreground master logs to stdout only');
      // Re-executed in place with the master's Node flags: same pid, flags on its command line.
      const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
      for (const flag of MASTER_NODE_FLAGS) assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`);

      const file = join(dir, 'master.config.ts');
      const broken = readFileSync(file, 'utf8').replace(
        "title: 'Lathe sample master',",
        "title: 'x',\n  nonsense: 1,",
      );
      writeFileSync(file, broken);
      const line = broken.split('\n').findIndex((l) => l.includes('nonsense')) + 1;
      child.kill('SIGHUP');
      await waitFor(() => /reconfig: failed/.test(out), 20_000, 'the reconfig');
      await waitFor(() => out.includes(`${file}:${line}`), 5_000, 'the problem');
      assert.match(out, new RegExp(`^\\S+ {3}${escapeRe(file)}:${line}: nonsense: unknown setting$`, 'm'));
      assert.equal(child.exitCode, null, 'still running');
      assert.equal((await lathe(['status', dir])).code, 0);

      child.kill('SIGINT');
      assert.equal(await exited, 0);
      assert.match(out, /stop: SIGINT received, cancelling running builds/);
      assert.match(out, /master stopped\n$/);
      assert.ok(!existsSync(join(dir, 'lathe.pid')));
      assert.ok(!existsSync(join(dir, 'control.json')));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('RotatingLog', () => {
  const tmp = tempDir('lathe-log-');
  after(() => tmp.cleanup());

  it('rotates by size like twistd, keeping a bounded number of old files', () => {
    const path = join(tmp.path, 'lathe.log');
    const log = new RotatingLog(path, 100, 2);
    for (let i = 0; i < 10; i++) log.write(`line ${i} ${'x'.repeat(40)}`);
    log.close();
    assert.deepEqual(readdirSync(tmp.path).sort(), ['lathe.log', 'lathe.log.1', 'lathe.log.2']);
    // Two 48-byte lines fit in 100 bytes: the newest two are current, older ones rotated out.
    assert.match(readFileSync(path, 'utf8'), /^line 8 x+\nline 9 x+\n$/);
    assert.match(readFileSync(`${path}.1`, 'utf8'), /^line 6 x+\nline 7 x+\n$/);
    assert.match(readFileSync(`${path}.2`, 'utf8'), /^line 4 x+\nline 5 x+\n$/);

    // Reopening appends to the existing file and counts its size.
    const again = new RotatingLog(path, 100, 2);
    again.write('line 10');
    again.close();
    assert.match(readFileSync(`${path}.1`, 'utf8'), /^line 8 x+\nline 9 x+\n$/);
    assert.equal(readFileSync(path, 'utf8'), 'line 10\n');
  });
});
