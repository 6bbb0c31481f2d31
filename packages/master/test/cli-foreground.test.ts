// `lathe start --nodaemon` (systemd, containers).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MASTER_NODE_FLAGS, missingMasterFlags } from '../src/cli/daemon/node-flags.js';
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
