/**
 * PB over TCP, or over TLS when `tls` options are given: servers and clients.
 */

import { once } from 'node:events';
import net from 'node:net';
import type tls from 'node:tls';
import type { BananaLimits } from '../banana.js';
import { Broker, type BrokerOptions, type PBLogger } from '../broker.js';
import { type LoginGate, login, loginAnonymous, type Portal, PortalRoot } from '../cred.js';
import type { Referenceable, RemoteReference } from '../flavors.js';
import { RateLimitedLogger } from '../log-limit.js';
import { type AdmissionLimits, PreLoginAdmission } from './admission.js';
import { attachSocket } from './socket.js';

export type ConnectionOptions = Omit<BrokerOptions, 'isClient' | 'root' | 'preLogin'>;

/** What a connection to a server with a portal may do before it logs in. */
export interface PreLoginOptions extends Partial<AdmissionLimits> {
  /** Banana limits until login; default {@link PRE_LOGIN_LIMITS} (4 KiB per element). */
  limits?: Partial<BananaLimits>;
  /** Calls a peer may make before it logs in (a login takes two); default 16. */
  maxCalls?: number;
  /**
   * Where warnings about connections that have not logged in go (protocol errors, cut
   * connections). Default: `logger`, at most 20 per minute.
   */
  logger?: PBLogger;
}

export const DEFAULT_ADMISSION_LIMITS: Readonly<AdmissionLimits> = Object.freeze({
  maxConnections: 256,
  maxConnectionsPerSource: 64,
  loginTimeoutMs: 30_000,
});

export interface ListenOptions extends ConnectionOptions {
  port?: number;
  host?: string;
  /** Serve TLS with these options (at least `key` and `cert`). */
  tls?: tls.TlsOptions;
  /** The root object: one shared object, or a factory called per connection. */
  root?: Referenceable | ((broker: Broker) => Referenceable);
  /** Serve a cred login (`login` / `loginAnonymous`) as the root instead. */
  portal?: Portal;
  /** Called before each login is checked; throw to refuse (rate limiting). */
  loginGate?: LoginGate;
  onLoginFailed?: (username: string | null, error: unknown, broker: Broker) => void;
  /** Called for every new connection, after its broker is set up (with its socket, for the peer address). */
  onConnection?: (broker: Broker, socket: net.Socket) => void;
  /** With a `portal`: limits on connections that have not logged in yet (see {@link PreLoginOptions}). */
  preLogin?: PreLoginOptions;
}

/** A listening PB server. */
export class PBServer {
  readonly brokers = new Set<Broker>();
  constructor(readonly server: net.Server) {}

  get port(): number {
    const addr = this.server.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const b of this.brokers) b.close();
    await closed;
  }
}

/**
 * Loaded on first use: importing node:tls initialises OpenSSL's TLS state, several MB of
 * resident memory that a plain-TCP master or worker has no use for.
 */
async function loadTls(): Promise<typeof tls> {
  return (await import('node:tls')).default;
}

/**
 * Starts a PB server.
 *
 * @example
 * const server = await listen({ port: 8800, root: referenceable({ echo: (x) => x }) });
 */
export async function listen(options: ListenOptions): Promise<PBServer> {
  const { preLogin: preLoginOptions = {}, ...brokerOptions } = options;
  const preLoginLog =
    preLoginOptions.logger ??
    new RateLimitedLogger(options.logger ?? { warn: (m) => console.warn(m) }, { prefix: 'pb: ' });
  const admission = options.portal
    ? new PreLoginAdmission(
        {
          maxConnections: preLoginOptions.maxConnections ?? DEFAULT_ADMISSION_LIMITS.maxConnections,
          maxConnectionsPerSource:
            preLoginOptions.maxConnectionsPerSource ?? DEFAULT_ADMISSION_LIMITS.maxConnectionsPerSource,
          loginTimeoutMs: preLoginOptions.loginTimeoutMs ?? DEFAULT_ADMISSION_LIMITS.loginTimeoutMs,
        },
        preLoginLog,
      )
    : undefined;
  const onSocket = (socket: net.Socket) => {
    const broker = new Broker({
      ...brokerOptions,
      isClient: false,
      root: undefined,
      ...(admission && {
        preLogin: { limits: preLoginOptions.limits, maxCalls: preLoginOptions.maxCalls, logger: preLoginLog },
      }),
    });
    if (admission) broker.whenAuthenticated(() => admission.loggedIn(socket));
    if (options.portal) {
      broker.root = new PortalRoot(options.portal, broker, options.loginGate, options.onLoginFailed);
    } else if (options.root) {
      broker.root = typeof options.root === 'function' ? options.root(broker) : options.root;
    }
    pb.brokers.add(broker);
    broker.notifyOnDisconnect(() => pb.brokers.delete(broker));
    attachSocket(broker, socket);
    options.onConnection?.(broker, socket);
  };
  const server = options.tls
    ? (await loadTls()).createServer(options.tls, onSocket)
    : net.createServer(onSocket);
  // Before the connection handler: for TLS, admission starts before the handshake.
  if (admission) server.prependListener('connection', (socket: net.Socket) => admission.admit(socket));
  const pb = new PBServer(server);
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  return pb;
}

export interface ConnectOptions extends ConnectionOptions {
  host: string;
  port: number;
  /** Connect over TLS; `true` for defaults (certificate verified against system CAs). */
  tls?: tls.ConnectionOptions | boolean;
  /** The local address to connect from. */
  localAddress?: string;
  /** Give up connecting after this long. Default 30 s. */
  timeoutMs?: number;
  /** An object the server may reach as our `b'root'` (rarely used). */
  root?: Referenceable;
}

/** A client connection to a PB server. */
export class PBConnection {
  /** Settles when the connection closes, for whatever reason. */
  readonly closed: Promise<void>;
  constructor(readonly broker: Broker) {
    this.closed = new Promise((resolve) => broker.notifyOnDisconnect(resolve));
  }
  /** The server's root object. */
  root(): RemoteReference {
    return this.broker.remoteRoot();
  }
  /** Logs in with a username and password; returns the avatar (perspective). */
  login(
    username: string | Uint8Array,
    password: string | Uint8Array,
    mind: unknown = null,
  ): Promise<RemoteReference> {
    return login(this.root(), username, password, mind);
  }
  loginAnonymous(mind: unknown = null): Promise<RemoteReference> {
    return loginAnonymous(this.root(), mind);
  }
  close(): void {
    this.broker.close();
  }
}

/** The connection attempt failed (refused, unreachable, timed out). */
export class ConnectError extends Error {
  override name = 'ConnectError';
  constructor(
    readonly host: string,
    readonly port: number,
    cause: unknown,
  ) {
    super(`cannot connect to ${host}:${port}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/**
 * Connects to a PB server.
 *
 * @example
 * const conn = await connect({ host: 'localhost', port: 8800 });
 * console.log(await conn.root().callRemote('echo', 'hello'));
 */
export async function connect(options: ConnectOptions): Promise<PBConnection> {
  const { host, port, localAddress } = options;
  const socket = options.tls
    ? (await loadTls()).connect({
        host,
        port,
        ...(localAddress && { localAddress }),
        servername: net.isIP(host) ? undefined : host,
        ...(options.tls === true ? {} : options.tls),
      })
    : net.connect({ host, port, ...(localAddress && { localAddress }) });
  const ready = options.tls ? 'secureConnect' : 'connect';
  const timeout = setTimeout(
    () => socket.destroy(new Error(`timed out after ${options.timeoutMs ?? 30_000} ms`)),
    options.timeoutMs ?? 30_000,
  );
  try {
    await once(socket, ready);
  } catch (err) {
    socket.destroy();
    throw new ConnectError(host, port, err);
  } finally {
    clearTimeout(timeout);
  }
  const broker = new Broker({ ...options, isClient: true });
  attachSocket(broker, socket);
  return new PBConnection(broker);
}
