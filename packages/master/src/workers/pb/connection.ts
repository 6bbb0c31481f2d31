// One logged-in worker over PB, seen from the master: the worker's Bot (the login mind), its
// WorkerForBuilder references, the avatar the worker calls back on, and the keepalive.
// Everything Buildbot's master sends a worker goes through here, with the exact argument
// forms a Python worker expects (keyword `message`, list of tuples, text ids).
import {
  Avatar,
  type Broker,
  ConnectionLostError,
  errorFromFailure,
  Kwargs,
  kwargs,
  PBError,
  Referenceable,
  RemoteError,
  RemoteReference,
  tuple,
} from '@lathe/pb';
import { KNOWN_UPDATE_KEYS } from '../../process/command.js';
import type { CommandSink, WorkerChannel } from '../channel.js';

export interface BuilderEntry {
  readonly name: string;
  readonly builddir: string;
}

export interface ConnectionEvents {
  /** The worker asked to shut down once idle (its SIGHUP / shutdown file). */
  onShutdownRequested(): void;
  /** Any sign of life from the worker. */
  onMessage?(): void;
  /**
   * The worker sent an update key no worker command sends (the update is dropped). Told
   * once per key and connection, for at most MAX_REPORTED_UNKNOWN_KEYS keys.
   */
  onUnknownUpdateKey?(key: string): void;
}

/** Distinct unknown update keys reported per connection: a flood of new names is not a flood of log lines. */
export const MAX_REPORTED_UNKNOWN_KEYS = 16;

/** The worker answered a call in a way the protocol does not allow. */
export class WorkerProtocolError extends Error {
  override readonly name = 'WorkerProtocolError';
  constructor(
    readonly worker: string,
    readonly call: string,
    detail: string,
  ) {
    super(`worker ${worker}: ${call}: ${detail}`);
  }
}

/** The worker has no builder of that name (not in the last setBuilderList answer). */
export class UnknownWorkerBuilderError extends Error {
  override readonly name = 'UnknownWorkerBuilderError';
  constructor(
    readonly worker: string,
    readonly builder: string,
  ) {
    super(`worker ${worker} has no builder ${builder}`);
  }
}

/**
 * The worker was told to drop the builder a command ran on. Workers stop such commands
 * without ever calling `complete` (buildbot-worker's WorkerForBuilder goes quiet once
 * disowned), so the master ends them itself.
 */
export class BuilderDroppedError extends Error {
  override readonly name = 'BuilderDroppedError';
  constructor(
    readonly worker: string,
    readonly builder: string,
  ) {
    super(`builder ${builder} was removed from worker ${worker} while its command ran`);
  }
}

/** What the worker may call: Buildbot's `Connection` avatar. */
class WorkerPerspective extends Avatar {
  constructor(private readonly conn: PBWorkerConnection) {
    super();
  }
  perspective_keepalive(): null {
    this.conn.events.onMessage?.();
    return null;
  }
  perspective_shutdown(): null {
    this.conn.events.onMessage?.();
    this.conn.events.onShutdownRequested();
    return null;
  }
}

/** The master-side object a worker reports one command's progress to. */
class RemoteCommandRef extends Referenceable {
  #done = false;
  constructor(
    private readonly sink: CommandSink,
    private readonly onMessage: () => void,
    private readonly onUnknownKey: (key: string) => void,
    private readonly onDone: () => void,
  ) {
    super();
  }
  /**
   * Answered once the updates are stored, not on arrival: a worker that waits for its
   * answers (ours does) then cannot make the master buffer more than it keeps up with.
   */
  async remote_update(updates: unknown): Promise<number> {
    this.onMessage();
    let max = 0;
    if (!Array.isArray(updates)) return max;
    let stored: Promise<unknown> | undefined;
    for (const pair of updates) {
      if (!Array.isArray(pair)) continue;
      const [dict, num] = pair as [unknown, unknown];
      if (typeof num === 'number' && num > max) max = num;
      if (this.#done || !dict || typeof dict !== 'object') continue;
      const entries = dict instanceof Map ? [...dict.entries()] : Object.entries(dict);
      for (const [k, v] of entries) {
        const key = String(decodeBytes(k));
        if (KNOWN_UPDATE_KEYS.has(key)) stored = this.sink.update(key, decodeBytes(v));
        else this.onUnknownKey(key);
      }
    }
    // Updates are applied in order, so the last one settling means all are stored.
    await stored;
    return max;
  }
  remote_complete(failure: unknown = null): null {
    this.onMessage();
    // An old worker may send the failure as a keyword argument.
    if (failure instanceof Kwargs) failure = failure.values.failure ?? null;
    this.end(failure == null ? null : errorFromFailure(failure));
    return null;
  }
  /** Completes the command once, from the worker's `complete` or from the master. */
  end(failure: Error | null): void {
    if (this.#done) return;
    this.#done = true;
    this.onDone();
    this.sink.complete(failure);
  }
}

export interface PBWorkerConnectionOptions {
  readonly workerName: string;
  readonly broker: Broker;
  readonly mind: RemoteReference;
  readonly peer: string;
  /** Seconds between keepalive pings; an unanswered ping at the next tick drops the connection. */
  readonly keepaliveSeconds: number;
  readonly events: ConnectionEvents;
}

export class PBWorkerConnection implements WorkerChannel {
  readonly workerName: string;
  readonly broker: Broker;
  readonly mind: RemoteReference;
  readonly peer: string;
  readonly perspective: Avatar;
  readonly events: ConnectionEvents;
  /** Settles once the connection is closed and every disconnect callback has run. */
  readonly closed: Promise<void>;
  info: Readonly<Record<string, unknown>> = {};
  #builders = new Map<string, RemoteReference>();
  #builderList: BuilderEntry[] | null = null;
  /** Commands not completed yet, per builder: ended by the master if the builder is dropped. */
  readonly #commands = new Map<string, Set<RemoteCommandRef>>();
  #keepalive: NodeJS.Timeout | undefined;
  #pingOutstanding = false;
  #reason = 'connection lost';
  readonly #unknownKeysSeen = new Set<string>();
  readonly #callbacks = new Set<(reason: string) => void>();
  lastMessageAt = Date.now();

  constructor(options: PBWorkerConnectionOptions) {
    this.workerName = options.workerName;
    this.broker = options.broker;
    this.mind = options.mind;
    this.peer = options.peer;
    this.events = options.events;
    this.perspective = new WorkerPerspective(this);
    let resolveClosed!: () => void;
    this.closed = new Promise((r) => {
      resolveClosed = r;
    });
    this.broker.notifyOnDisconnect(() => {
      clearInterval(this.#keepalive);
      const callbacks = [...this.#callbacks];
      this.#callbacks.clear();
      for (const cb of callbacks) {
        try {
          cb(this.#reason);
        } catch {
          // One failing observer must not keep the others from hearing about the loss.
        }
      }
      resolveClosed();
    });
    if (options.keepaliveSeconds > 0) {
      this.#keepalive = setInterval(() => this.#tickKeepalive(), options.keepaliveSeconds * 1000);
      this.#keepalive.unref();
    }
  }

  get connected(): boolean {
    return this.broker.connected;
  }

  hasBuilder(builderName: string): boolean {
    return this.#builders.has(builderName);
  }

  get builderNames(): string[] {
    return [...this.#builders.keys()];
  }

  get builderList(): readonly BuilderEntry[] | null {
    return this.#builderList;
  }

  noteMessage(): void {
    this.lastMessageAt = Date.now();
    this.events.onMessage?.();
  }

  // ---------------------------------------------------------------------------------------
  // Calls on the worker's Bot

  /** `bot.print(message=…)`: always a keyword argument, as Buildbot sends it. */
  async remotePrint(message: string): Promise<void> {
    await this.mind.callRemote('print', kwargs({ message }));
  }

  /** `getWorkerInfo()`, falling back to the pre-0.9 calls for very old workers. */
  async getWorkerInfo(): Promise<Record<string, unknown>> {
    try {
      return asDict(decodeBytes(await this.mind.callRemote('getWorkerInfo')));
    } catch (err) {
      if (!isNoSuchMethod(err)) throw err;
    }
    const info: Record<string, unknown> = {};
    const optional = async (method: string): Promise<unknown> => {
      try {
        return decodeBytes(await this.mind.callRemote(method));
      } catch (err) {
        if (isNoSuchMethod(err)) return undefined;
        throw err;
      }
    };
    Object.assign(info, asDict(await optional('getSlaveInfo')));
    if ('slave_commands' in info) {
      info.worker_commands = info.slave_commands;
      delete info.slave_commands;
      return info;
    }
    const commands = await optional('getCommands');
    if (commands !== undefined) info.worker_commands = commands;
    const version = await optional('getVersion');
    if (version !== undefined) info.version = version;
    return info;
  }

  /**
   * `setBuilderList([(name, builddir), …])`: the worker answers with a reference per builder.
   * References to builders no longer listed are released; Buildbot then prints 'attached'
   * once per builder in the answer.
   */
  async setBuilderList(builders: readonly BuilderEntry[]): Promise<void> {
    const answer = await this.mind.callRemote(
      'setBuilderList',
      builders.map((b) => tuple(b.name, b.builddir)),
    );
    const refs = new Map<string, RemoteReference>();
    const entries = answer instanceof Map ? [...answer.entries()] : Object.entries(asDict(answer));
    for (const [name, ref] of entries) {
      if (!(ref instanceof RemoteReference)) {
        throw new WorkerProtocolError(
          this.workerName,
          'setBuilderList',
          `builder ${String(name)} is no reference`,
        );
      }
      refs.set(String(decodeBytes(name)), ref);
    }
    for (const [name, old] of this.#builders) {
      if (refs.has(name)) continue;
      old.release();
      for (const ref of this.#commands.get(name) ?? [])
        ref.end(new BuilderDroppedError(this.workerName, name));
    }
    this.#builders = refs;
    this.#builderList = [...builders];
    await Promise.all([...refs.keys()].map(() => this.remotePrint('attached')));
  }

  async ping(): Promise<void> {
    await this.remotePrint('ping');
  }

  async shutdown(): Promise<void> {
    try {
      await this.mind.callRemote('shutdown');
    } catch (err) {
      // The worker exits right after answering; losing the connection is success.
      if (err instanceof ConnectionLostError) return;
      if (!isNoSuchMethod(err)) throw err;
      // Workers before 0.8.3 exit when a builder is told to shut down.
      const builder = this.#builders.values().next().value;
      if (!builder) throw new PBError(`worker ${this.workerName} cannot be shut down`);
      await builder.callRemote('shutdown').catch((e: unknown) => {
        if (!(e instanceof ConnectionLostError)) throw e;
      });
    }
  }

  // ---------------------------------------------------------------------------------------
  // Calls on the worker's builders

  async startBuild(builderName: string): Promise<void> {
    await this.#builder(builderName).callRemote('startBuild');
  }

  async startCommand(
    builderName: string,
    commandId: string,
    commandName: string,
    args: Readonly<Record<string, unknown>>,
    sink: CommandSink,
  ): Promise<void> {
    const builder = this.#builder(builderName);
    const running = this.#commands.get(builderName) ?? new Set<RemoteCommandRef>();
    this.#commands.set(builderName, running);
    const ref = new RemoteCommandRef(
      sink,
      () => this.noteMessage(),
      (key) => this.#unknownUpdateKey(key),
      () => running.delete(ref),
    );
    running.add(ref);
    try {
      await builder.callRemote('startCommand', ref, commandId, commandName, args);
    } catch (err) {
      running.delete(ref);
      throw err;
    }
  }

  async interruptCommand(builderName: string, commandId: string, why: string): Promise<void> {
    await this.#builder(builderName).callRemote('interruptCommand', commandId, why);
  }

  #unknownUpdateKey(key: string): void {
    if (this.#unknownKeysSeen.has(key) || this.#unknownKeysSeen.size >= MAX_REPORTED_UNKNOWN_KEYS) return;
    this.#unknownKeysSeen.add(key);
    this.events.onUnknownUpdateKey?.(key);
  }

  #builder(name: string): RemoteReference {
    const ref = this.#builders.get(name);
    if (!ref) throw new UnknownWorkerBuilderError(this.workerName, name);
    return ref;
  }

  // ---------------------------------------------------------------------------------------
  // Connection

  onDisconnect(callback: (reason: string) => void): () => void {
    if (!this.broker.connected) {
      queueMicrotask(() => callback(this.#reason));
      return () => {};
    }
    this.#callbacks.add(callback);
    return () => this.#callbacks.delete(callback);
  }

  /** Closes the connection and waits until everyone has heard about it. */
  async disconnect(reason: string): Promise<void> {
    if (this.broker.connected) {
      this.#reason = reason;
      this.broker.close();
    }
    await this.closed;
  }

  #tickKeepalive(): void {
    if (this.#pingOutstanding) {
      void this.disconnect('keepalive timed out');
      return;
    }
    this.#pingOutstanding = true;
    this.remotePrint('keepalive').then(
      () => {
        this.#pingOutstanding = false;
      },
      () => {
        // A failed call means the connection is gone; its disconnect handling does the rest.
      },
    );
  }
}

function isNoSuchMethod(err: unknown): boolean {
  return err instanceof RemoteError && err.check('twisted.spread.flavors.NoSuchMethod');
}

function asDict(v: unknown): Record<string, unknown> {
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), x]));
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Buildbot's `decode`: bytes anywhere in a worker's payload become text. */
export function decodeBytes(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (Array.isArray(v)) {
    const out = v.map(decodeBytes);
    return out;
  }
  if (v instanceof Map) {
    const out = new Map();
    for (const [k, x] of v) out.set(decodeBytes(k), decodeBytes(x));
    return out;
  }
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = decodeBytes(x);
    return out;
  }
  return v;
}
