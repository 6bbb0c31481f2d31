// The `lathe` commands that need no running master, run as real processes.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { formatStatus } from '../src/cli/commands/status.js';
import type { MasterStatus } from '../src/control/protocol.js';
import { escapeRe, lathe } from './cli-helpers.js';
import { tempDir } from './helpers.js';

const SUBCOMMANDS = [
  'quickstart',
  'create-master',
  'start',
  'stop',
  'restart',
  'reconfig',
  'checkconfig',
  'upgrade-master',
  'force',
  'stop-build',
  'cancel-request',
  'status',
  'worker',
  'hash-password',
];

describe('lathe (offline commands)', () => {
  const tmp = tempDir('lathe-cli-');
  const dir = join(tmp.path, 'master');
  after(async () => {
    // Should a test start a master by mistake, do not leave it running.
    await lathe(['stop', dir, '--cancel', '--timeout', '5']);
    tmp.cleanup();
  });

  it('prints help for every subcommand, and usage errors exit 2', async () => {
    const top = await lathe(['--help']);
    assert.equal(top.code, 0);
    for (const c of SUBCOMMANDS) assert.match(top.stdout, new RegExp(`^  ${c} `, 'm'));
    const results = await Promise.all(SUBCOMMANDS.map((c) => lathe([c, '--help'])));
    results.forEach((r, i) => {
      assert.equal(r.code, 0, SUBCOMMANDS[i]);
      assert.match(r.stdout, new RegExp(`^Usage: lathe ${SUBCOMMANDS[i]}`), SUBCOMMANDS[i]);
    });

    const version = await lathe(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^lathe \d+\.\d+\.\d+ \(node v\d+/);

    const none = await lathe([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^Usage: lathe <command>/);
    const unknown = await lathe(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const badOption = await lathe(['status', '--bogus']);
    assert.equal(badOption.code, 2);
    assert.match(badOption.stderr, /lathe status: Unknown option '--bogus'/);
    const missing = await lathe(['force']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /lathe force: needs exactly one builder name/);
    const badProp = await lathe(['force', 'x', '--prop', 'novalue']);
    assert.equal(badProp.code, 2);
    assert.match(badProp.stderr, /--prop needs name=value/);
    const noAction = await lathe(['worker', 'frob', 'w1']);
    assert.equal(noAction.code, 2);
    assert.match(noAction.stderr, /lathe worker: unknown action "frob" \(pause, unpause or shutdown\)/);
    const noName = await lathe(['worker', 'pause']);
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /lathe worker: needs exactly one worker name, got 0/);
  });

  it('create-master writes a config that checkconfig accepts, a private secret and the database', async () => {
    const created = await lathe(['create-master', dir, '--worker-port', '0']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /created a master in/);
    const secret = join(dir, 'control.secret');
    assert.equal(statSync(secret).mode & 0o777, 0o600);
    assert.match(readFileSync(secret, 'utf8'), /^[A-Za-z0-9_-]{32}\n$/);
    assert.equal(statSync(join(dir, 'master.config.ts')).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700, 'the master directory is private');
    assert.ok(existsSync(join(dir, 'state.sqlite')));
    assert.ok(existsSync(join(dir, 'sample-project', 'greet.test.mjs')));
    assert.match(readFileSync(join(dir, 'master.config.ts'), 'utf8'), /from '@lathe\/master'/);

    const check = await lathe(['checkconfig', dir]);
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stdout.trim(), 'config OK: 1 worker(s), 1 builder(s), worker port 0');

    const upgrade = await lathe(['upgrade-master', dir]);
    assert.equal(upgrade.code, 0, upgrade.stderr);
    assert.match(upgrade.stdout, /state\.sqlite: already up to date/);

    const again = await lathe(['create-master', dir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /master\.config\.ts already exists \(use --force/);
    assert.match(readFileSync(secret, 'utf8'), /^[A-Za-z0-9_-]{32}\n$/);
  });

  it('checkconfig reports a broken config with file:line and exits 1', async () => {
    const file = join(dir, 'master.config.ts');
    const good = readFileSync(file, 'utf8');
    try {
      const lines = good.split('\n');
      const workerLine = lines.findIndex((l) => l.includes('defineWorker({')) + 1;
      writeFileSync(file, good.replace('maxBuilds: 1', 'maxBuilds: -1'));
      const invalid = await lathe(['checkconfig', dir]);
      assert.equal(invalid.code, 1);
      assert.match(
        invalid.stderr,
        new RegExp(
          `^${escapeRe(file)}:${workerLine}: workers\\["local-worker"\\]\\.maxBuilds: must be a positive integer`,
          'm',
        ),
      );

      writeFileSync(file, good.replace("title: 'Lathe sample master'", 'title: 42'));
      const typeError = await lathe(['checkconfig', dir]);
      assert.equal(typeError.code, 1);
      const titleLine = lines.findIndex((l) => l.includes('title:')) + 1;
      assert.match(
        typeError.stderr,
        new RegExp(`^${escapeRe(file)}:${titleLine}:\\d+: type error TS2322`, 'm'),
      );
    } finally {
      writeFileSync(file, good);
    }
  });

  it('commands that need a running master say clearly that it is not running', async () => {
    for (const args of [
      ['status', dir],
      ['force', 'sample', '--dir', dir],
      ['reconfig', dir],
      ['worker', 'pause', 'w1', '--dir', dir],
    ]) {
      const r = await lathe(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, new RegExp(`master not running at ${escapeRe(dir)} `), args.join(' '));
    }
    const stop = await lathe(['stop', dir]);
    assert.equal(stop.code, 0);
    assert.equal(stop.stdout.trim(), `master not running at ${dir}`);

    // A master that died without cleaning up leaves a pid file and control.json behind.
    writeFileSync(join(dir, 'lathe.pid'), '999999\n');
    writeFileSync(join(dir, 'control.json'), JSON.stringify({ host: '127.0.0.1', port: 1, pid: 999999 }));
    const status = await lathe(['status', dir]);
    assert.equal(status.code, 1);
    assert.match(status.stderr, /master not running at .* \(process 999999 is gone\)/);
    const stale = await lathe(['stop', dir]);
    assert.equal(stale.code, 0);
    assert.match(stale.stdout, /removed the stale pid file of process 999999/);
    assert.ok(!existsSync(join(dir, 'lathe.pid')));
    assert.ok(!existsSync(join(dir, 'control.json')));
  });

  it('start refuses a directory without a config, and a broken config with its file:line', async () => {
    const empty = await lathe(['start', join(tmp.path, 'nothing-here')]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /has no master\.config\.ts; create one with: lathe create-master/);

    const file = join(dir, 'master.config.ts');
    const good = readFileSync(file, 'utf8');
    try {
      writeFileSync(file, good.replace("workerNames: ['local-worker']", "workerNames: ['nobody']"));
      assert.notEqual(readFileSync(file, 'utf8'), good);
      const r = await lathe(['start', dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /the master failed to start/);
      assert.match(
        r.stderr,
        new RegExp(
          `${escapeRe(file)}:\\d+: builders\\["sample"\\]\\.workerNames: names unknown worker "nobody"`,
        ),
      );
      assert.ok(!existsSync(join(dir, 'lathe.pid')), 'a failed start leaves no pid file');
      assert.match(
        readFileSync(join(dir, 'lathe.log'), 'utf8'),
        /start-up failed: configuration .* is not usable/,
      );
    } finally {
      writeFileSync(file, good);
    }
  });
});

describe('lathe start with its worker port taken', () => {
  const tmp = tempDir('lathe-cli-port-');
  const dir = join(tmp.path, 'master');
  const holder = createServer();
  after(async () => {
    holder.close();
    await lathe(['stop', dir, '--cancel', '--timeout', '5']);
    tmp.cleanup();
  });

  it('names the workerPort key and the port, without a stack trace', async () => {
    holder.listen(0, '0.0.0.0');
    await once(holder, 'listening');
    const { port } = holder.address() as AddressInfo;
    const created = await lathe(['create-master', dir, '--worker-port', String(port)]);
    assert.equal(created.code, 0, created.stderr);
    for (const args of [
      ['start', dir],
      ['start', '--nodaemon', dir],
    ]) {
      const r = await lathe(args, { timeoutMs: 120_000 });
      assert.equal(r.code, 1, args.join(' '));
      const said = `cannot listen on workerPort 0.0.0.0:${port}: it is already in use (another master or program listens there); change workerPort in the configuration or free the port`;
      assert.ok(
        r.stderr.includes(said) || r.stdout.includes(said),
        `${args.join(' ')}\n${r.stdout}\n${r.stderr}`,
      );
      assert.doesNotMatch(`${r.stdout}${r.stderr}`, /^\s+at /m, 'no stack trace');
      assert.ok(!existsSync(join(dir, 'lathe.pid')));
    }
  });
});

describe('lathe status formatting', () => {
  const at = (h: number, m: number, s: number) => new Date(2026, 0, 2, h, m, s).getTime() / 1000;
  const build = {
    buildid: 7,
    builder: 'b',
    number: 3,
    worker: 'w1',
    state: 'building',
    currentStep: null,
    stepEta: null,
    progress: 0.5,
  };
  const status = (
    builds: MasterStatus['builds'],
    schedulers: MasterStatus['schedulers'] = [],
  ): MasterStatus => ({
    name: 'm',
    masterid: 1,
    basedir: '/m',
    pid: 42,
    startedAt: at(12, 0, 0),
    accepting: true,
    canRunBuilds: true,
    workers: [],
    builds,
    pending: [],
    schedulers,
  });

  it('shows a running build’s step, and its ETA as a local clock time and what is left, or how late it runs', () => {
    const now = at(12, 33, 36);
    const text = formatStatus(
      status([
        { ...build, startedAt: at(12, 33, 0), eta: at(12, 34, 56), currentStep: 'compile' },
        { ...build, number: 4, startedAt: at(12, 30, 0), eta: at(12, 33, 30) },
        { ...build, number: 5, startedAt: at(12, 33, 30), eta: null },
      ]),
      now,
    );
    assert.match(
      text,
      /^ {2}b #3 \(build id 7\) on w1, 36s, step "compile": building, ETA 12:34:56 \(in 1m20s\)$/m,
    );
    assert.match(text, /^ {2}b #4 \(build id 7\) on w1, 4m: building, ETA 12:33:30 \(overdue by 6s\)$/m);
    assert.match(text, /^ {2}b #5 \(build id 7\) on w1, 6s: building$/m);
  });

  it('lists the schedulers with their kind and next run as a local date and time', () => {
    const text = formatStatus(
      status(
        [],
        [
          { name: 'nightly', kind: 'Nightly', builderNames: ['b'], nextRunAt: at(15, 0, 0), lastRunAt: null },
          {
            name: 'on-main',
            kind: 'SingleBranchScheduler',
            builderNames: ['b', 'c'],
            nextRunAt: null,
            lastRunAt: null,
          },
        ],
      ),
      at(12, 30, 0),
    );
    assert.match(text, /^schedulers \(2\):$/m);
    assert.match(text, /^ {2}nightly +Nightly +next run 2026-01-02 15:00:00 \(in 2h30m\) {2}builders: b$/m);
    assert.match(text, /^ {2}on-main +SingleBranchScheduler +no run due {2}builders: b, c$/m);
  });
});
