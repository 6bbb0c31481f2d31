// A real master in the background, driven only through the `lathe` command: start, status,
// force, reconfig (good and broken), a wrong control secret, stop.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MASTER_NODE_FLAGS } from '../src/cli/daemon/node-flags.js';
import { alive, escapeRe, lathe } from './cli-helpers.js';
import { openData, tempDir } from './helpers.js';
import { useTestDatabase } from './test-database.js';

describe('lathe with a running master', () => {
  const tmp = tempDir('lathe-daemon-');
  const dir = join(tmp.path, 'master');
  const file = join(dir, 'master.config.ts');
  let pid = 0;
  let good = '';

  before(async () => {
    const created = await lathe(['create-master', dir, '--worker-port', '0']);
    assert.equal(created.code, 0, created.stderr);
    await useTestDatabase(dir);
    good = readFileSync(file, 'utf8');
  });
  after(async () => {
    // Whatever a failed test left running: the last pid we saw and the one in the pid file.
    const current = existsSync(join(dir, 'lathe.pid'))
      ? Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'))
      : 0;
    for (const p of new Set([pid, current])) if (p && alive(p)) process.kill(p, 'SIGKILL');
    tmp.cleanup();
  });

  it('start runs the master in the background with a pid file, a log and a control port', async () => {
    const r = await lathe(['start', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /master started in .* \(pid \d+, control port 127\.0\.0\.1:\d+\); log: /);
    pid = Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'));
    assert.ok(alive(pid));
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    for (const flag of MASTER_NODE_FLAGS) assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`);
    assert.notEqual(pid, process.pid);
    const control = JSON.parse(readFileSync(join(dir, 'control.json'), 'utf8')) as {
      pid: number;
      port: number;
    };
    assert.equal(control.pid, pid);
    assert.ok(control.port > 0);
    assert.match(readFileSync(join(dir, 'lathe.log'), 'utf8'), /started \(pid \d+\); 1 workers, 1 builders/);

    const twice = await lathe(['start', dir]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, new RegExp(`already running in ${escapeRe(dir)} \\(pid ${pid}\\)`));
  });

  it('status lists the workers, running builds and pending requests', async () => {
    const r = await lathe(['status', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^master .* \\(pid ${pid}\\), up \\d+s, accepting builds`));
    assert.match(r.stdout, /^ {2}local-worker +disconnected +0\/1 builds$/m);
    assert.match(r.stdout, /^running builds \(0\):$/m);
    assert.match(r.stdout, /^pending requests \(0\):$/m);
    const json = await lathe(['status', dir, '--json']);
    const st = JSON.parse(json.stdout) as { pid: number; workers: { name: string; connected: boolean }[] };
    assert.equal(st.pid, pid);
    assert.deepEqual(
      st.workers.map((w) => [w.name, w.connected]),
      [['local-worker', false]],
    );
  });

  it('force submits a build request that status then shows pending', async () => {
    // Without a connected worker (and, on this branch, without the build runner) nothing
    // can start, so this checks the request up to "submitted and observed pending".
    const submitted = await lathe(['force', 'sample', '--dir', dir, '--no-wait', '--prop', 'color=blue']);
    assert.equal(submitted.code, 0, submitted.stderr);
    assert.match(submitted.stdout, /^buildset 1 submitted: build request 1 for "sample" is pending$/m);

    const followed = await lathe(['force', 'sample', '--dir', dir, '--timeout', '1', '--reason', 'test']);
    assert.equal(followed.code, 3, followed.stderr);
    assert.match(followed.stdout, /^buildset 2 submitted: build request 2 for "sample" is pending$/m);
    assert.match(followed.stderr, /gave up waiting after 1s; build request 2 stays queued on the master/);

    // What was asked for is what the master stored.
    const db = await openData(join(dir, 'state.sqlite'));
    try {
      const [first, second] = [await db.data.buildsets.get(1), await db.data.buildsets.get(2)];
      assert.match(first?.reason ?? '', /^forced by .* with lathe force$/, 'the default reason');
      assert.equal(second?.reason, 'test');
      const props = await db.data.buildsets.properties(1);
      assert.equal(props.color?.[0], 'blue');
      assert.equal(props.scheduler?.[0], 'force');
      assert.equal((await db.data.buildsets.properties(2)).color, undefined);
    } finally {
      await db.close();
    }

    const status = await lathe(['status', dir]);
    assert.match(
      status.stdout,
      /^pending requests \(2\):\n {2}request 1 for sample \(buildset 1, priority 0\), waiting \d+s\n {2}request 2 for sample/m,
    );

    const unknown = await lathe(['force', 'nope', '--dir', dir]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /the master refused: no builder named "nope" \(builders: sample\)/);
  });

  it('reconfig applies a good config and reports a broken one with file:line, keeping the master running', async () => {
    writeFileSync(
      file,
      good.replace(
        '  builders: [',
        "  builders: [\n    defineBuilder({ name: 'extra', workerNames: ['local-worker'], factory: buildFactory(shell('hi', ['true'])) }),",
      ),
    );
    const ok = await lathe(['reconfig', dir]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^reconfig done: 1 added, 0 changed, 0 removed$/m);

    const broken = good.replace('maxBuilds: 1', 'maxBuilds: 0');
    writeFileSync(file, broken);
    const line = broken.split('\n').findIndex((l) => l.includes('maxBuilds: 0')) + 1;
    const bad = await lathe(['reconfig', dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /the new configuration was rejected; the master keeps running with the old one/);
    assert.match(
      bad.stderr,
      new RegExp(`^${escapeRe(file)}:${line}: workers\\["local-worker"\\]\\.maxBuilds`, 'm'),
    );
    assert.ok(alive(pid));
    assert.match(
      readFileSync(join(dir, 'lathe.log'), 'utf8'),
      /reconfig: failed, keeping the previous configuration/,
    );

    // The master still serves, with the last good config (which has the 'extra' builder).
    const forced = await lathe(['force', 'extra', '--dir', dir, '--no-wait']);
    assert.equal(forced.code, 0, forced.stderr);
    writeFileSync(file, good);
  });

  it('refuses a client with the wrong control secret', async () => {
    const secretFile = join(dir, 'control.secret');
    const secret = readFileSync(secretFile, 'utf8');
    try {
      writeFileSync(secretFile, 'not-the-secret\n', { mode: 0o600 });
      const r = await lathe(['status', dir]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(`the master at ${escapeRe(dir)} refused the control secret in ${escapeRe(secretFile)}`),
      );
      assert.match(readFileSync(join(dir, 'lathe.log'), 'utf8'), /control: refused a login as "lathe-admin"/);
    } finally {
      writeFileSync(secretFile, secret);
    }
    assert.equal((await lathe(['status', dir])).code, 0);
  });

  it('stop ends the master gracefully and removes its pid and control files', async () => {
    const r = await lathe(['stop', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`stopping the master \\(pid ${pid}\\)[^]*master stopped`));
    assert.ok(!alive(pid));
    assert.ok(!existsSync(join(dir, 'lathe.pid')));
    assert.ok(!existsSync(join(dir, 'control.json')));
    const log = readFileSync(join(dir, 'lathe.log'), 'utf8');
    assert.match(log, /stop: SIGTERM received, waiting for running builds\n.*master stopped\n$/);

    const status = await lathe(['status', dir]);
    assert.equal(status.code, 1);
    assert.match(status.stderr, /master not running at/);
  });

  it('restarts: the pending requests survive in the database', async () => {
    const started = await lathe(['start', dir]);
    assert.equal(started.code, 0, started.stderr);
    pid = Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'));
    const restarted = await lathe(['restart', dir]);
    assert.equal(restarted.code, 0, restarted.stderr);
    const newPid = Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'));
    assert.notEqual(newPid, pid);
    assert.ok(!alive(pid));
    pid = newPid;
    const status = await lathe(['status', dir, '--json']);
    const st = JSON.parse(status.stdout) as { pending: { buildrequestid: number }[] };
    assert.deepEqual(
      st.pending.map((p) => p.buildrequestid),
      [1, 2],
    );
    const stopped = await lathe(['stop', dir, '--cancel']);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.ok(!alive(pid));
  });
});
