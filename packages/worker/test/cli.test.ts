import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Avatar, listen, PasswordChecker, Portal } from '@lathe/pb';
import { tempDir } from './helpers.js';

const bin = fileURLToPath(new URL('../../bin/lathe-worker.js', import.meta.url));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A TCP port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('lathe-worker command line', () => {
  it('prints help everywhere', () => {
    for (const args of [
      ['--help'],
      ['create', '--help'],
      ['start', '-h'],
      ['stop', '--help'],
      ['restart', '--help'],
    ]) {
      const r = cli(...args);
      assert.equal(r.status, 0, args.join(' '));
      assert.match(r.stdout, /^Usage: lathe-worker/);
    }
    const bare = cli();
    assert.equal(bare.status, 2);
    assert.match(bare.stderr, /Commands:/);
    assert.match(cli('--version').stdout, /^\d+\.\d+\.\d+/);
  });

  it('rejects unknown commands and options with a usage error', () => {
    const unknown = cli('frobnicate');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const option = cli('start', '--frob');
    assert.equal(option.status, 2);
    assert.match(option.stderr, /Unknown option '--frob'/);
    assert.match(option.stderr, /Usage: lathe-worker start/);
  });

  it('creates a worker directory with worker.json and info files', () => {
    const basedir = join(tempDir(), 'worker');
    const r = cli(
      'create',
      basedir,
      'master.example.org:9989',
      'worker1',
      'workerpass',
      '--keepalive',
      '10',
      '--umask',
      '022',
      '--maxdelay',
      '60',
      '--numcpus',
      '4',
      '--admin',
      'Jane <jane@example.org>',
      '--allow-shutdown',
      'signal',
      '--use-tls',
      '--keep-leftover-processes',
      '--tls-ca',
      'ca.pem',
    );
    assert.equal(r.status, 0, r.stderr);
    const config = JSON.parse(readFileSync(join(basedir, 'worker.json'), 'utf8'));
    assert.deepEqual(
      {
        host: config.masterHost,
        port: config.masterPort,
        name: config.name,
        password: config.password,
        keepalive: config.keepalive,
        umask: config.umask,
        maxRetryDelay: config.maxRetryDelay,
        numcpus: config.numcpus,
        allowShutdown: config.allowShutdown,
        useTls: config.useTls,
      },
      {
        host: 'master.example.org',
        port: 9989,
        name: 'worker1',
        password: 'workerpass',
        keepalive: 10,
        umask: '022',
        maxRetryDelay: 60,
        numcpus: 4,
        allowShutdown: 'signal',
        useTls: true,
      },
    );
    assert.equal(config.killLeftoverProcesses, false);
    assert.ok(config.tlsCaFile.endsWith('/ca.pem') && config.tlsCaFile.startsWith('/'));
    assert.equal(statSync(join(basedir, 'worker.json')).mode & 0o777, 0o600, 'credentials are private');
    assert.equal(readFileSync(join(basedir, 'info/admin'), 'utf8'), 'Jane <jane@example.org>\n');
    assert.match(readFileSync(join(basedir, 'info/host'), 'utf8'), /description of this build host/);

    const again = cli('create', basedir, 'm:1', 'w', 'p');
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already holds a worker.*--force/);
    assert.equal(cli('create', '--force', basedir, '[::1]:9989', 'w', 'p').status, 0);
    assert.equal(JSON.parse(readFileSync(join(basedir, 'worker.json'), 'utf8')).masterHost, '::1');
    assert.equal(readFileSync(join(basedir, 'info/admin'), 'utf8'), 'Jane <jane@example.org>\n', 'kept');
  });

  it('explains bad create arguments', () => {
    const dir = tempDir();
    const cases: Array<[string[], RegExp]> = [
      [['create', dir], /needs 4 arguments/],
      [['create', join(dir, 'a'), 'no-port', 'w', 'p'], /host:port/],
      [['create', join(dir, 'b'), 'h:70000', 'w', 'p'], /port from 1 to 65535/],
      [['create', join(dir, 'c'), 'h:1', 'w', 'p', '--umask', '999'], /--umask needs an octal mode/],
      [
        ['create', join(dir, 'd'), 'h:1', 'w', 'p', '--keepalive', 'often'],
        /--keepalive needs a whole number/,
      ],
      [['create', join(dir, 'e'), 'h:1', 'w', 'p', '--allow-shutdown', 'maybe'], /'signal' or 'file'/],
    ];
    for (const [args, pattern] of cases) {
      const r = cli(...args);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, pattern);
    }
    writeFileSync(join(dir, 'stray'), '');
    assert.match(cli('create', dir, 'h:1', 'w', 'p').stderr, /not empty; use --force/);
  });

  it('explains a missing or malformed basedir on start and stop', () => {
    const dir = tempDir();
    const missing = cli('start', join(dir, 'nope'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /worker directory .*nope does not exist/);
    const notWorker = cli('start', '--nodaemon', dir);
    assert.equal(notWorker.status, 1);
    assert.match(notWorker.stderr, /not a worker directory: worker.json is missing/);
    writeFileSync(join(dir, 'worker.json'), '{ "masterHost": ');
    assert.match(cli('start', dir).stderr, /worker.json is not valid JSON/);
    writeFileSync(
      join(dir, 'worker.json'),
      JSON.stringify({ masterHost: 'h', masterPort: 'x', name: 'w', password: 'p' }),
    );
    const malformed = cli('stop', dir);
    assert.equal(malformed.status, 1);
    assert.match(malformed.stderr, /malformed:\n {2}'masterPort' must be a port number/);
  });

  it('starts a daemon that reports an unreachable master, then stops it', async () => {
    const basedir = join(tempDir(), 'w');
    const port = await closedPort();
    assert.equal(cli('create', basedir, `127.0.0.1:${port}`, 'w1', 'pw', '--maxdelay', '1').status, 0);
    const started = cli('start', basedir, '--wait', '10');
    after(() => cli('stop', basedir));
    assert.equal(started.status, 0, started.stderr);
    assert.match(
      started.stdout,
      /started \(pid \d+\), but cannot reach the master at 127\.0\.0\.1:\d+: connection refused/,
    );
    const pid = Number(readFileSync(join(basedir, 'worker.pid'), 'utf8'));
    assert.ok(pid > 0);
    const twice = cli('start', basedir);
    assert.equal(twice.status, 1);
    assert.match(twice.stdout, /already running/);
    const stopped = cli('stop', basedir);
    assert.equal(stopped.status, 0);
    assert.match(stopped.stdout, new RegExp(`pid ${pid}\\) stopped`));
    assert.ok(!existsSync(join(basedir, 'worker.pid')));
    const log = readFileSync(join(basedir, 'worker.log'), 'utf8');
    assert.match(log, /connecting to master at 127\.0\.0\.1:\d+ as 'w1'/);
    assert.match(log, /stopping: received SIGTERM/);
    assert.match(cli('stop', basedir).stdout, /not running/);
  });

  it('reports a refused login clearly and does not retry in a tight loop', async () => {
    // A real PB server whose portal knows w1 with another password.
    const server = await listen({
      port: 0,
      portal: new Portal({ requestAvatar: () => ({ avatar: new Avatar() }) }, [
        new PasswordChecker({ w1: 'right' }),
      ]),
      logger: { warn: () => {} },
    });
    after(() => server.close());
    let logins = 0;
    server.server.on('connection', () => logins++);
    const basedir = join(tempDir(), 'w');
    // --maxdelay caps every wait, the slow retry after a refused login too (30 s at most).
    cli('create', basedir, `127.0.0.1:${server.port}`, 'w1', 'wrong', '--maxdelay', '60');
    const child = spawn(process.execPath, [bin, 'start', '--nodaemon', basedir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A failed assertion must not leave the worker running, holding this test file open.
    after(() => child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 15_000;
    while (!/refused the login of worker 'w1'/.test(output) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(output, /refused the login of worker 'w1'/);
    // The first retry after a refused login waits far longer than the 1 s of a lost connection.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(logins, 1, `connections in 3 s: ${logins}`);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  it('runs in the foreground with --nodaemon until SIGTERM', async () => {
    const basedir = join(tempDir(), 'w');
    const port = await closedPort();
    cli('create', basedir, `127.0.0.1:${port}`, 'w1', 'pw', '--maxdelay', '1');
    const child = spawn(process.execPath, [bin, 'start', '--nodaemon', basedir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 15_000;
    while (!output.includes('cannot reach the master') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(output, /connecting to master at 127\.0\.0\.1:\d+ as 'w1'/);
    assert.equal(Number(readFileSync(join(basedir, 'worker.pid'), 'utf8')), child.pid);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(output, /stopping: received SIGTERM/);
    assert.ok(!existsSync(join(basedir, 'worker.pid')));
  });

  it('stops on SIGHUP when allowed to ask for a shutdown and not connected', async () => {
    const basedir = join(tempDir(), 'w');
    const port = await closedPort();
    cli('create', basedir, `127.0.0.1:${port}`, 'w1', 'pw', '--allow-shutdown', 'signal');
    const child = spawn(process.execPath, [bin, 'start', '--nodaemon', basedir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 15_000;
    while (!output.includes('connecting to master') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGHUP');
    assert.equal(await exited, 0);
    assert.match(output, /graceful shutdown requested while not connected/);
  });

  it('treats a stale pid file as not running', () => {
    const basedir = join(tempDir(), 'w');
    cli('create', basedir, '127.0.0.1:1', 'w1', 'pw');
    mkdirSync(basedir, { recursive: true });
    writeFileSync(join(basedir, 'worker.pid'), '999999\n');
    const r = cli('stop', basedir);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /stale worker.pid/);
    assert.ok(!existsSync(join(basedir, 'worker.pid')));
  });
});
