// The worker port: a PB server behind a cred portal whose users are the configured workers.
// A login runs Buildbot 3.7's attach sequence before the worker gets its perspective:
//   print(message='attached') → getWorkerInfo() → setBuilderList([(name, builddir), …])
//   → print(message='attached') per builder → answer `respond` with the perspective.
// Buildbot-worker and a Lathe worker both connect here the same way.
import {
  type AvatarId,
  type Broker,
  type LoginResult,
  listen,
  PasswordChecker,
  type PBServer,
  Portal,
  type PreLoginOptions,
  RateLimitedLogger,
  type Realm,
  RemoteReference,
  UnauthorizedLogin,
} from '@lathe/pb';
import type { Subscription } from '../../bus/bus.js';
import type { Master } from '../../master.js';
import type { Service } from '../../service.js';
import type { WorkerService } from '../worker.js';
import { type BuilderEntry, PBWorkerConnection } from './connection.js';
import { LoginThrottle, type LoginThrottleOptions } from './throttle.js';

export interface WorkerServerLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface WorkerServerOptions {
  /** Overrides the configured `workerPort` (0 picks a free port, for tests). */
  readonly port?: number;
  readonly host?: string;
  /** How long an existing connection gets to answer when the same worker logs in again; default 10 s. */
  readonly duplicateTimeoutMs?: number;
  readonly throttle?: LoginThrottleOptions;
  /**
   * Limits on connections that have not logged in (pb's `PreLoginOptions`; its defaults:
   * 4 KiB per element, 16 calls, 30 s to log in, 256 such connections, 64 per source).
   * Their warnings, and refused logins, are logged at most 20 a minute.
   */
  readonly preLogin?: PreLoginOptions;
  readonly logger?: WorkerServerLogger;
}

/** Sent as Python's RuntimeError, which is what Buildbot answers a duplicate login with. */
export class DuplicateWorkerError extends Error {
  override readonly name = 'DuplicateWorkerError';
  readonly pythonType = 'builtins.RuntimeError';
  constructor(readonly worker: string) {
    super('rejecting duplicate worker');
  }
}

const quietLogger: WorkerServerLogger = {
  info: () => {},
  warn: (m) => console.warn(m),
};

// Buildbot's safeTranslate: these characters become '_' in a builder's default directory.
const BAD_BUILDDIR_CHARS = /[\t !#$%&'()*+,./:;<=>?@[\\\]^{|}~]/g;

/** The directory a builder uses on the worker, as Buildbot derives it from the name. */
export function defaultBuilddir(builderName: string): string {
  return builderName.replace(BAD_BUILDDIR_CHARS, '_');
}

export class WorkerServer implements Service {
  readonly name = 'worker-port';
  readonly throttle: LoginThrottle;
  readonly #o: WorkerServerOptions;
  readonly #log: WorkerServerLogger;
  #master: Master | null = null;
  #server: PBServer | null = null;
  #sub: Subscription | null = null;
  readonly #peers = new WeakMap<Broker, string>();
  /** Live connection per worker name (attached or still attaching). */
  readonly #connections = new Map<string, PBWorkerConnection>();
  /** Detaches still being recorded; stop() waits for them before the database closes. */
  readonly #detaching = new Set<Promise<void>>();

  constructor(options: WorkerServerOptions = {}) {
    this.#o = options;
    this.#log = options.logger ?? quietLogger;
    this.throttle = new LoginThrottle(options.throttle);
  }

  get port(): number {
    return this.#server?.port ?? 0;
  }

  /** The PB connection of a worker, if it is connected. */
  connection(workerName: string): PBWorkerConnection | undefined {
    return this.#connections.get(workerName);
  }

  async start(master: Master): Promise<void> {
    this.#master = master;
    const realm: Realm = { requestAvatar: (id, mind, broker) => this.#login(id, mind, broker) };
    // Workers first; other users (a PB change source's) share the port, as in Buildbot.
    const checker = new PasswordChecker(
      (name) => master.workers.get(name)?.config.password ?? master.pbUsers.get(name)?.password,
    );
    const configured = master.config.workerPort;
    // Whatever a peer that has not logged in can make us say is rate-limited, lest it rotate the log away.
    const untrusted = new RateLimitedLogger({ warn: (m) => this.#log.warn(`worker port: ${m}`) });
    this.#server = await listen({
      port: this.#o.port ?? configured.port,
      host: this.#o.host ?? configured.host ?? '0.0.0.0',
      portal: new Portal(realm, [checker]),
      logger: { warn: (m) => this.#log.warn(`worker port: ${m}`) },
      preLogin: { logger: untrusted, ...this.#o.preLogin },
      onConnection: (broker, socket) => {
        this.#peers.set(broker, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
      },
      loginGate: (username, broker) => {
        // Anonymous logins have no checker and fail anyway; only names are throttled.
        if (username !== null) this.throttle.check(this.#host(broker), username);
      },
      onLoginFailed: (username, err, broker) => {
        if (username === null || !(err instanceof UnauthorizedLogin)) return;
        // Only configured names can be guessed; others would only fill the throttle's table.
        if (master.workers.get(username)) this.throttle.failed(this.#host(broker), username);
        // The name only: a password never reaches the master, and must not reach a log.
        untrusted.warn(
          `refused login as ${JSON.stringify(username.slice(0, 100))} from ${this.#peers.get(broker)}`,
        );
      },
    });
    const listening = this.#o.host ?? configured.host;
    master.workerPortAddress = {
      host: listening === null || listening === '0.0.0.0' || listening === '::' ? 'localhost' : listening,
      port: this.#server.port,
    };
    this.#sub = master.bus.subscribe('config.reconfigured', () => this.#refreshBuilderLists(), {
      name: 'worker-port:reconfig',
    });
  }

  async stop(): Promise<void> {
    this.#sub?.unsubscribe();
    this.#sub = null;
    const conns = [...this.#connections.values()];
    await Promise.all(conns.map((c) => c.disconnect('master shutting down')));
    await Promise.all([...this.#detaching]);
    await this.#server?.close();
    this.#server = null;
  }

  #host(broker: Broker): string {
    const peer = this.#peers.get(broker) ?? '?';
    return peer.slice(0, peer.lastIndexOf(':'));
  }

  /** The builders a worker serves, in configuration order. */
  builderListFor(workerName: string): BuilderEntry[] {
    const master = this.#requireMaster();
    return [...master.builders.values()]
      .filter((b) => b.config.workerNames.includes(workerName))
      .map((b) => ({ name: b.name, builddir: b.config.workerBuilddir ?? defaultBuilddir(b.name) }));
  }

  async #login(avatarId: AvatarId, mind: unknown, broker: Broker): Promise<LoginResult> {
    const master = this.#requireMaster();
    const name = typeof avatarId === 'string' ? avatarId : '';
    const peer = this.#peers.get(broker) ?? '?';
    const worker = master.workers.get(name);
    const other = worker ? undefined : master.pbUsers.get(name);
    if (other) {
      this.throttle.succeeded(this.#host(broker), name);
      return { avatar: other.avatar(mind) };
    }
    if (!worker || !(mind instanceof RemoteReference)) {
      // Removed from the config between the password check and now, or no Bot to talk to.
      throw new UnauthorizedLogin();
    }
    this.throttle.succeeded(this.#host(broker), name);
    this.#log.info(`worker ${name} attaching from ${peer}`);
    await this.#arbitrateDuplicate(worker);

    const conn = new PBWorkerConnection({
      workerName: name,
      broker,
      mind,
      peer,
      keepaliveSeconds: worker.config.keepalive,
      events: {
        onShutdownRequested: () => {
          worker.shutdown({ graceful: true }).catch((err) => {
            this.#log.warn(`worker ${name}: graceful shutdown failed: ${(err as Error).message}`);
          });
        },
        onUnknownUpdateKey: (key) => {
          this.#log.warn(
            `worker ${name}: dropped updates with unknown key ${JSON.stringify(key.slice(0, 100))}`,
          );
        },
      },
    });
    this.#connections.set(name, conn);
    conn.onDisconnect((reason) => {
      if (this.#connections.get(name) === conn) this.#connections.delete(name);
      this.#log.info(`worker ${name} detached: ${reason}`);
      // Only our own attachment: a newer connection may already have replaced it.
      if (worker.connection === conn) {
        worker
          .detach()
          .catch((err) => this.#log.warn(`worker ${name}: detach failed: ${(err as Error).message}`));
      }
    });

    try {
      await conn.remotePrint('attached');
      const info = await conn.getWorkerInfo();
      conn.info = storedInfo(info);
      // Before attach: the distributor may hand the worker a build as soon as it is attached.
      await conn.setBuilderList(this.builderListFor(name));
      if (!conn.connected) throw new UnauthorizedLogin();
      await worker.attach(conn, conn.info);
    } catch (err) {
      if (this.#connections.get(name) === conn) this.#connections.delete(name);
      conn.broker.close();
      throw err;
    }
    this.#log.info(`worker ${name} attached`);
    return { avatar: conn.perspective };
  }

  /**
   * Buildbot's arbitration: ask the existing connection to answer; if it does, the new login
   * is refused, otherwise the old connection is dropped and the new one proceeds.
   */
  async #arbitrateDuplicate(worker: WorkerService): Promise<void> {
    const old = this.#connections.get(worker.name);
    if (!old) return;
    this.#log.info(`worker ${worker.name}: duplicate connection, checking the old one`);
    const timeoutMs = this.#o.duplicateTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const alive = await Promise.race([
      old.remotePrint('master got a duplicate connection').then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (alive && old.connected) throw new DuplicateWorkerError(worker.name);
    this.#log.info(`worker ${worker.name}: old connection is dead, accepting the new one`);
    await old.disconnect('replaced by a new connection');
    // The old connection's detach runs from its disconnect callback; let it finish first.
    for (let i = 0; i < 100 && worker.connection === old; i++) await new Promise((r) => setTimeout(r, 10));
  }

  /** After a reconfig, tell each connected worker its new builder list if it changed. */
  async #refreshBuilderLists(): Promise<void> {
    let changed = false;
    for (const [name, conn] of this.#connections) {
      const next = this.builderListFor(name);
      if (sameList(conn.builderList, next)) continue;
      try {
        await conn.setBuilderList(next);
        changed = true;
      } catch (err) {
        this.#log.warn(`worker ${name}: setBuilderList failed: ${(err as Error).message}`);
      }
    }
    // Builds of new builders waited for the worker to know them (BuildRunner.canStart).
    if (changed) this.#master?.distributor?.trigger();
  }

  #requireMaster(): Master {
    if (!this.#master) throw new Error('worker port: not started');
    return this.#master;
  }
}

/**
 * What is kept of a worker's info: everything but its process environment, which may hold
 * secrets and is only needed by steps (Buildbot does not store it either).
 */
function storedInfo(info: Record<string, unknown>): Record<string, unknown> {
  const { environ: _environ, ...rest } = info;
  return rest;
}

function sameList(a: readonly BuilderEntry[] | null, b: readonly BuilderEntry[]): boolean {
  return (
    a !== null &&
    a.length === b.length &&
    a.every((x, i) => x.name === b[i]!.name && x.builddir === b[i]!.builddir)
  );
}
