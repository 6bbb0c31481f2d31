/**
 * Connecting to a Buildbot (or Lathe) master over Perspective Broker.
 *
 * The TCP/TLS part is real: it tells the user clearly when the master cannot be
 * reached. `loginOverPb` then speaks PB with @lathe/pb: handshake, `root.login(name)`,
 * `challenger.respond(md5(md5(password) + challenge), bot)`, serving the Bot's
 * methods meanwhile, as buildbot-worker 3.7 does (its buildbot_worker/pb.py; the recorded
 * session fixtures/pb-traces/bb-worker.txt).
 */
import { readFileSync } from 'node:fs';
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import {
  attachSocket,
  Broker,
  ConnectionLostError,
  login,
  RemoteError,
  type RemoteReference,
} from '@lathe/pb';
import type { RemoteObjects } from '../commands/command.js';
import { logMessage } from '../util/log.js';
import type { Bot } from '../worker/bot.js';
import {
  type ConnectTarget,
  FatalConnectionError,
  LoginRefusedError,
  type MasterConnector,
  type MasterSession,
  MasterUnreachableError,
} from './master-connector.js';
import { BotReferenceable } from './pb-objects.js';
import { callableRemoteObjects } from './remote-adapters.js';

const CONNECT_TIMEOUT_MS = 30_000;

export const pbConnector: MasterConnector = {
  async connect(target: ConnectTarget, bot: Bot): Promise<MasterSession> {
    const socket = await openTransport(target);
    try {
      return await loginOverPb(socket, target, bot);
    } catch (err) {
      socket.destroy();
      throw err;
    }
  },
};

/** Opens the TCP (or TLS) connection to the master, with errors a person can act on. */
export function openTransport(target: ConnectTarget, timeoutMs = CONNECT_TIMEOUT_MS): Promise<Socket> {
  const where = `${target.host}:${target.port}`;
  return new Promise((resolve, reject) => {
    let ca: Buffer | undefined;
    try {
      ca = target.useTls && target.tlsCaFile ? readFileSync(target.tlsCaFile) : undefined;
    } catch (err) {
      reject(new FatalConnectionError(`cannot read the TLS CA file: ${(err as Error).message}`));
      return;
    }
    const socket = target.useTls
      ? connectTls({
          host: target.host,
          port: target.port,
          servername: isIP(target.host) ? undefined : target.host,
          ca,
        })
      : connectTcp({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new MasterUnreachableError(where, `no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.once(target.useTls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setKeepAlive(true);
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new MasterUnreachableError(where, describeSocketError(err), { cause: err }));
    });
  });
}

function describeSocketError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the master running, and is this its worker port?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host name';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to the host';
    default:
      if (err.code?.includes('CERT') || err.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
        return (
          `the master's TLS certificate is not trusted (${err.message}); for a private CA or a ` +
          'self-signed master, set tlsCaFile in worker.json (lathe-worker create --tls-ca)'
        );
      }
      return err.code ? `${err.code}: ${err.message}` : err.message;
  }
}

/**
 * PB handshake and login on an open socket; resolves once the master has attached
 * the worker (the master calls into the Bot before it answers the login).
 */
export async function loginOverPb(socket: Socket, target: ConnectTarget, bot: Bot): Promise<MasterSession> {
  const broker = new Broker({
    isClient: true,
    // Buildbot workers send real tracebacks with command failures; errors stay terse.
    unsafeTracebacks: false,
    logger: { warn: (message) => logMessage(message) },
  });
  attachSocket(broker, socket);
  const closed = new Promise<Error | undefined>((resolve) =>
    broker.notifyOnDisconnect(() => resolve(new Error('connection to the master lost'))),
  );
  const where = `${target.host}:${target.port}`;
  let perspective: RemoteReference;
  try {
    perspective = await login(broker.remoteRoot(), target.name, target.password, new BotReferenceable(bot));
  } catch (err) {
    broker.close();
    if (err instanceof RemoteError && err.check('twisted.cred.error.UnauthorizedLogin')) {
      throw new LoginRefusedError(target.name, where);
    }
    if (err instanceof RemoteError) {
      // e.g. Buildbot's "rejecting duplicate worker": the master said no for a reason of its own.
      throw new LoginRefusedError(target.name, where, err.remoteValue || err.remoteType);
    }
    if (err instanceof ConnectionLostError)
      throw new MasterUnreachableError(where, 'the master closed the connection during login');
    throw err;
  }
  return {
    keepalive: async () => void (await perspective.callRemote('keepalive')),
    requestShutdown: async () => void (await perspective.callRemote('shutdown')),
    closed,
    close: () => broker.close(),
  };
}

/**
 * Wraps the `writer` / `reader` references of transfer args: PB references
 * only need `callRemote`, which the adapters use.
 */
export const pbRemoteObjects: RemoteObjects = callableRemoteObjects;
