import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import {
  type ConnectTarget,
  FatalConnectionError,
  LoginRefusedError,
  type MasterConnector,
  type MasterSession,
  MasterUnreachableError,
} from '../src/connection/master-connector.js';
import { openTransport } from '../src/connection/pb-connector.js';
import { Bot } from '../src/worker/bot.js';
import type { MasterCommandRef } from '../src/worker/running-command.js';
import { type BackoffPolicy, type ServiceEvent, WorkerService } from '../src/worker/worker-service.js';
import { remotesFor, tempDir } from './helpers.js';

const target: ConnectTarget = { host: '127.0.0.1', port: 1, name: 'w1', password: 'pw', useTls: false };
const fastBackoff = { initialMs: 10, factor: 2, maxMs: 50, refusedMinMs: 30 };

class FakeSession implements MasterSession {
  keepalives = 0;
  shutdownRequests = 0;
  private end!: (reason: Error | undefined) => void;
  readonly closed = new Promise<Error | undefined>((r) => {
    this.end = r;
  });
  async keepalive(): Promise<void> {
    this.keepalives++;
  }
  async requestShutdown(): Promise<void> {
    this.shutdownRequests++;
  }
  close(): void {
    this.end(undefined);
  }
  drop(reason: string): void {
    this.end(new Error(reason));
  }
}

/** A connector that plays back a script of outcomes, one per attempt. */
function scriptedConnector(outcomes: Array<() => MasterSession>): MasterConnector & { attempts: number[] } {
  const attempts: number[] = [];
  return {
    attempts,
    async connect() {
      attempts.push(Date.now());
      const next = outcomes.shift();
      if (!next) throw new MasterUnreachableError('127.0.0.1:1', 'script exhausted');
      return next();
    },
  };
}

function service(
  connector: MasterConnector,
  bot: Bot,
  extra: {
    keepaliveSeconds?: number;
    maxRetries?: number | null;
    backoff?: BackoffPolicy;
    random?: () => number;
  } = {},
) {
  const events: ServiceEvent[] = [];
  const s = new WorkerService({
    target,
    bot,
    connector,
    keepaliveSeconds: extra.keepaliveSeconds ?? 0,
    maxRetries: extra.maxRetries ?? null,
    backoff: extra.backoff ?? fastBackoff,
    onEvent: (e) => events.push(e),
    random: extra.random ?? (() => 0),
  });
  return { s, events };
}

const newBot = () => new Bot({ basedir: tempDir(), remotes: remotesFor({}), batching: { maxDelayMs: 10 } });

describe('WorkerService', { timeout: 60_000 }, () => {
  it('reconnects with growing delays after failures, and resets after a success', async () => {
    const session = new FakeSession();
    const unreachable = () => {
      throw new MasterUnreachableError('127.0.0.1:1', 'connection refused');
    };
    const connector = scriptedConnector([unreachable, unreachable, unreachable, () => session]);
    const { s, events } = service(connector, newBot());
    const done = s.run();
    while (!events.some((e) => e.kind === 'connected')) await new Promise((r) => setTimeout(r, 5));
    const delays = events.filter((e) => e.kind === 'retrying').map((e) => (e as { delayMs: number }).delayMs);
    assert.deepEqual(delays, [10, 20, 40]);
    s.stop('test over');
    assert.equal(await done, 0);
  });

  it('does not hammer the master after a refused login', async () => {
    const refused = () => {
      throw new LoginRefusedError('w1', '127.0.0.1:1');
    };
    const connector = scriptedConnector([refused, refused, refused, refused, refused]);
    const { s, events } = service(connector, newBot(), {
      backoff: { ...fastBackoff, maxMs: 1000, refusedMinMs: 300 },
    });
    const done = s.run();
    await new Promise((r) => setTimeout(r, 700));
    s.stop('test over');
    await done;
    assert.ok(connector.attempts.length <= 3, `${connector.attempts.length} attempts in 0.7 s`);
    for (let i = 1; i < connector.attempts.length; i++) {
      assert.ok(connector.attempts[i]! - connector.attempts[i - 1]! >= 290);
    }
    const refusedEvent = events.find((e) => e.kind === 'login-refused') as { message: string };
    assert.match(
      refusedEvent.message,
      /refused the login of worker 'w1'.*check the worker name and password/,
    );
  });

  it('never waits longer than the maximum delay, jitter and refused logins included', async () => {
    const unreachable = () => {
      throw new MasterUnreachableError('127.0.0.1:1', 'connection refused');
    };
    const refused = () => {
      throw new LoginRefusedError('w1', '127.0.0.1:1');
    };
    const connector = scriptedConnector([unreachable, unreachable, unreachable, unreachable, refused]);
    const backoff = { initialMs: 10, factor: 2, maxMs: 40, refusedMinMs: 300 };
    const { s, events } = service(connector, newBot(), { backoff, maxRetries: 6, random: () => 0.999 });
    assert.equal(await s.run(), 1);
    const delays = events.filter((e) => e.kind === 'retrying').map((e) => (e as { delayMs: number }).delayMs);
    assert.equal(delays.length, 5, 'the last wait follows the refused login');
    for (const d of delays) assert.ok(d <= 40, `waited ${d} ms, more than the 40 ms maximum`);
    assert.ok(delays[0]! > 10, 'jitter still spreads the waits below the maximum');
  });

  it('gives up after maxRetries failed attempts, and at once on fatal errors', async () => {
    const unreachable = () => {
      throw new MasterUnreachableError('127.0.0.1:1', 'connection refused');
    };
    const limited = service(scriptedConnector([unreachable, unreachable, unreachable]), newBot(), {
      maxRetries: 2,
    });
    assert.equal(await limited.s.run(), 1);
    assert.ok(limited.events.some((e) => e.kind === 'fatal' && /giving up after 2/.test(e.message)));

    const fatal = () => {
      throw new FatalConnectionError('cannot work');
    };
    const connector = scriptedConnector([fatal]);
    const { s } = service(connector, newBot());
    assert.equal(await s.run(), 1);
    assert.equal(connector.attempts.length, 1);
  });

  it('sends keepalives while connected and reconnects when the connection drops', async () => {
    const first = new FakeSession();
    const second = new FakeSession();
    const connector = scriptedConnector([() => first, () => second]);
    const bot = newBot();
    const { s, events } = service(connector, bot, { keepaliveSeconds: 0.05 });
    const done = s.run();
    const deadline = Date.now() + 5000;
    while (first.keepalives < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(first.keepalives >= 2, `${first.keepalives} keepalives`);
    first.drop('connection reset');
    while (events.filter((e) => e.kind === 'connected').length < 2)
      await new Promise((r) => setTimeout(r, 5));
    assert.ok(events.some((e) => e.kind === 'disconnected' && e.reason === 'connection reset'));
    const before = first.keepalives;
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(first.keepalives, before, 'no keepalives on a dead session');
    s.stop('test over');
    await done;
  });

  it('kills running commands when the connection is lost', async () => {
    const session = new FakeSession();
    const bot = newBot();
    const { s, events } = service(scriptedConnector([() => session]), bot);
    const done = s.run();
    while (!events.some((e) => e.kind === 'connected')) await new Promise((r) => setTimeout(r, 5));
    const builder = bot.setBuilderList([['demo', 'demo']]).get('demo')!;
    const ref: MasterCommandRef = { update: async () => 0, complete: async () => null };
    builder.startCommand(ref, '1', 'shell', {
      workdir: 'build',
      command: ['sleep', '30'],
      logEnviron: false,
    });
    assert.equal(bot.busy, true);
    session.drop('gone');
    await bot.whenIdle();
    s.stop('test over');
    await done;
  });

  it('on a master shutdown request, lets running commands finish first', async () => {
    const session = new FakeSession();
    const bot = newBot();
    const { s, events } = service(scriptedConnector([() => session]), bot);
    const done = s.run();
    while (!events.some((e) => e.kind === 'connected')) await new Promise((r) => setTimeout(r, 5));
    const builder = bot.setBuilderList([['demo', 'demo']]).get('demo')!;
    const calls: string[] = [];
    const ref: MasterCommandRef = {
      update: async () => 0,
      complete: async (failure) => {
        calls.push(failure ? 'failed' : 'complete');
        return null;
      },
    };
    builder.startCommand(ref, '1', 'shell', {
      workdir: 'build',
      command: ['sleep', '0.3'],
      logEnviron: false,
    });
    await s.shutdownWhenIdle();
    assert.deepEqual(calls, ['complete'], 'the command finished normally');
    assert.equal(await done, 0);
  });

  it('asks the master for a graceful shutdown when connected', async () => {
    const session = new FakeSession();
    const { s, events } = service(scriptedConnector([() => session]), newBot());
    const done = s.run();
    while (!events.some((e) => e.kind === 'connected')) await new Promise((r) => setTimeout(r, 5));
    await s.requestGracefulShutdown();
    assert.equal(session.shutdownRequests, 1);
    s.stop('test over');
    await done;
  });
});

describe('openTransport', { timeout: 60_000 }, () => {
  it('explains an unreachable master', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    await assert.rejects(
      openTransport({ ...target, port }),
      (err: unknown) =>
        err instanceof MasterUnreachableError &&
        err.message.includes(`127.0.0.1:${port}: connection refused`),
    );
  });

  it('connects when the master listens', async () => {
    const server = createServer((socket) => socket.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const socket = await openTransport({ ...target, port });
    assert.equal(socket.remotePort, port);
    socket.destroy();
    await new Promise((r) => server.close(r));
  });
});

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

describe('openTransport over TLS', { skip: !haveOpenssl && 'no openssl', timeout: 60_000 }, () => {
  it('verifies the master certificate, trusting tlsCaFile when given', async () => {
    const dir = tempDir();
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const made = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    assert.equal(made.status, 0, made.stderr?.toString());
    const server = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (s) =>
      s.on('error', () => {}),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      await assert.rejects(
        openTransport({ ...target, port, useTls: true }),
        (err: unknown) =>
          err instanceof MasterUnreachableError &&
          /TLS certificate is not trusted.*tlsCaFile/.test(err.message),
      );
      const socket = await openTransport({ ...target, port, useTls: true, tlsCaFile: cert });
      assert.equal(socket.remotePort, port);
      socket.destroy();
      await assert.rejects(
        openTransport({ ...target, port, useTls: true, tlsCaFile: join(dir, 'missing.pem') }),
        (err: unknown) =>
          err instanceof FatalConnectionError && /cannot read the TLS CA file/.test(err.message),
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
