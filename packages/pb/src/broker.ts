/**
 * The broker: one PB connection, seen from one side.
 *
 * It negotiates the Banana dialect, turns calls into `message` elements and
 * answers back into settled Promises, keeps the table of objects we exported
 * (luid → object, with the peer's reference count) and of objects we imported, and
 * drops the connection on any protocol violation — never the process.
 *
 * Messages after the handshake (field order is exact, as Twisted's twisted/spread/pb.py
 * sends them):
 *
 *     ['version', 6]
 *     ['message', requestID, objectID, methodName, answerRequired, args, kwargs]
 *     ['cachemessage', requestID, cacheID, methodName, answerRequired, args, kwargs]
 *     ['answer', requestID, result]
 *     ['error', requestID, failure]
 *     ['decref', objectID]     ['decache', cacheID]     ['uncache', cacheID]
 *
 * The broker is transport-agnostic: feed it bytes with {@link Broker.dataReceived}
 * and give it a {@link Transport} to write to.
 */

import {
  BananaDecoder,
  type BananaLimits,
  type BananaValue,
  ByteSink,
  DEFAULT_LIMITS,
  encodeInto,
  PRE_LOGIN_LIMITS,
  Token,
  Utf8,
} from './banana.js';
import {
  ConnectionLostError,
  CopyableFailure,
  errorFromFailure,
  PBError,
  ProtocolError,
  RemoteError,
} from './failure.js';
import {
  Cacheable,
  type ImportCount,
  Referenceable,
  RemoteCache,
  RemoteCacheObserver,
  RemoteReference,
  Viewable,
  ViewPoint,
} from './flavors.js';
import {
  decodeText,
  type FlavorCodec,
  InsecureJelly,
  Jellier,
  Kwargs,
  remoteCopyClass,
  tagOf,
  Unjellier,
} from './jelly.js';

/** Where a broker writes its bytes. TCP, TLS and in-memory pipes all fit. */
export interface Transport {
  write(data: Uint8Array): void;
  /** Closes the connection; the owner then calls {@link Broker.connectionLost}. */
  close(): void;
}

export interface PBLogger {
  warn(message: string): void;
  debug?(message: string): void;
}

/**
 * How a connection is held in check until its peer logs in. A broker given these starts
 * unauthenticated; {@link Broker.markAuthenticated} lifts them.
 */
export interface BrokerPreLogin {
  /** Banana limits until login (default {@link PRE_LOGIN_LIMITS}). */
  limits?: Partial<BananaLimits>;
  /** Calls the peer may make before login (each may cost an answer and an export); default 16. */
  maxCalls?: number;
  /** Where warnings go until login (e.g. a rate-limited logger); default `logger`. */
  logger?: PBLogger;
}

export interface BrokerOptions {
  /** True on the side that opened the connection: it picks the dialect. */
  isClient: boolean;
  /** The object served as `b'root'`; a server normally has one. */
  root?: Referenceable;
  /** Banana limits (after login, when `preLogin` is given). */
  limits?: Partial<BananaLimits>;
  /** Start unauthenticated, under these restrictions, until {@link Broker.markAuthenticated}. */
  preLogin?: BrokerPreLogin;
  /** Send real stack traces in failures (Twisted's `unsafeTracebacks`). Default false. */
  unsafeTracebacks?: boolean;
  /** Most objects exported at once before new exports fail (Twisted: 1024). */
  maxExportedRefs?: number;
  logger?: PBLogger;
}

const PROTOCOL_VERSION = 6;
const DIALECTS = ['pb', 'none'];

const enc = (s: string) => Buffer.from(s, 'latin1');
const tok = (s: string) => new Token(s);
const M = {
  version: tok('version'),
  message: tok('message'),
  cachemessage: tok('cachemessage'),
  answer: tok('answer'),
  error: tok('error'),
  decref: tok('decref'),
  decache: tok('decache'),
  uncache: tok('uncache'),
  remote: tok('remote'),
  local: tok('local'),
  cached: tok('cached'),
  lcache: tok('lcache'),
  root: tok('root'),
  tuple: tok('tuple'),
  dictionary: tok('dictionary'),
};
const EMPTY_TUPLE: BananaValue = [M.tuple];
const EMPTY_DICT: BananaValue = [M.dictionary];

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  method: string;
}

interface Export {
  object: Referenceable;
  refs: number;
}

interface CacheExport {
  object: Cacheable;
  refs: number;
  observer: RemoteCacheObserver;
}

interface CacheImport {
  cache: RemoteCache;
  refs: number;
}

/** Sends owed decrefs for references the application dropped without releasing. */
const finalizer = new FinalizationRegistry<{ broker: WeakRef<Broker>; luid: number; count: ImportCount }>(
  (held) => {
    const broker = held.broker.deref();
    if (broker && held.count.n > 0) broker.sendDecrefs(held.luid, held.count);
  },
);

/** By default protocol errors go to stderr: a dropped connection should never go unexplained. */
const stderrLogger: PBLogger = { warn: (message) => console.warn(message) };

export class Broker implements FlavorCodec {
  readonly isClient: boolean;
  /** Set on the server after a login: the avatar serving this connection. */
  perspective: unknown = undefined;
  root?: Referenceable;
  private readonly decoder: BananaDecoder;
  private readonly limits: BananaLimits;
  private readonly unsafeTracebacks: boolean;
  private readonly maxExportedRefs: number;
  private readonly trustedLogger: PBLogger;
  private logger: PBLogger;
  private isAuthenticated: boolean;
  /** Calls the peer may still make before login. */
  private callsBeforeLogin: number;
  private authenticationCallbacks: (() => void)[] = [];
  private transport?: Transport;
  private dialectChosen = false;
  private closed = false;
  private readonly out = new ByteSink(4096);
  private flushScheduled = false;
  /** Outgoing messages held until the dialect is chosen (a client may call at once). */
  private held: BananaValue[] = [];

  private nextRequestId = 1;
  private readonly pending = new Map<number, Pending>();
  private nextLuid = 1;
  private readonly exports = new Map<number, Export>();
  private readonly luidOf = new Map<object, number>();
  private readonly imports = new Map<number, WeakRef<RemoteReference>>();
  private readonly cacheExports = new Map<number, CacheExport>();
  private readonly cacheIdOf = new Map<Cacheable, number>();
  private readonly cacheImports = new Map<number, CacheImport>();
  private readonly disconnectCallbacks = new Set<() => void>();
  private readonly selfRef = new WeakRef(this);

  constructor(options: BrokerOptions) {
    this.isClient = options.isClient;
    if (options.root) this.root = options.root;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.unsafeTracebacks = options.unsafeTracebacks ?? false;
    this.maxExportedRefs = options.maxExportedRefs ?? 1024;
    this.trustedLogger = options.logger ?? stderrLogger;
    const preLogin = options.preLogin;
    this.logger = preLogin?.logger ?? this.trustedLogger;
    this.isAuthenticated = !preLogin;
    this.callsBeforeLogin = preLogin?.maxCalls ?? 16;
    this.decoder = new BananaDecoder((v) => this.elementReceived(v), {
      limits: preLogin ? { ...PRE_LOGIN_LIMITS, ...preLogin.limits } : this.limits,
      vocab: false,
    });
  }

  /** False until the peer has logged in, on a server given `preLogin`; true otherwise. */
  get authenticated(): boolean {
    return this.isAuthenticated;
  }

  /**
   * The peer proved who it is (its credentials were accepted): lift the pre-login limits.
   * The portal calls this before the realm builds the avatar, so the realm's own calls to
   * the peer (Buildbot's attach sequence) already run under the full limits.
   */
  markAuthenticated(): void {
    if (this.isAuthenticated) return;
    this.isAuthenticated = true;
    this.decoder.setLimits(this.limits);
    this.logger = this.trustedLogger;
    const callbacks = this.authenticationCallbacks;
    this.authenticationCallbacks = [];
    for (const cb of callbacks) safely(cb, this.logger);
  }

  /** Runs `callback` once the peer has logged in (at once if it already has). */
  whenAuthenticated(callback: () => void): void {
    if (this.authenticated) callback();
    else if (!this.closed) this.authenticationCallbacks.push(callback);
  }

  // -------------------------------------------------------------------------
  // Connection lifecycle

  /** Starts the protocol on a fresh connection. */
  connectionMade(transport: Transport): void {
    this.transport = transport;
    if (!this.isClient)
      this.writeNow(
        DIALECTS.map((d) => enc(d)),
        false,
      );
  }

  /** Feeds bytes from the peer. A protocol violation closes this connection only. */
  dataReceived(chunk: Uint8Array): void {
    if (this.closed) return;
    try {
      this.decoder.push(chunk);
    } catch (err) {
      this.protocolFailure(err);
    }
  }

  /** The transport closed: fail every outstanding call and forget all ids. */
  connectionLost(reason?: Error): void {
    if (this.closed) return;
    this.closed = true;
    const lost = new ConnectionLostError(reason ? `connection lost: ${reason.message}` : 'connection lost');
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(lost);
    for (const { object, observer } of this.cacheExports.values()) {
      safely(() => object.stoppedObserving(observer.perspective, observer), this.logger);
    }
    this.exports.clear();
    this.luidOf.clear();
    this.imports.clear();
    this.cacheExports.clear();
    this.cacheIdOf.clear();
    this.cacheImports.clear();
    this.held = [];
    this.pinned.clear();
    this.authenticationCallbacks = [];
    this.decoder.dispose();
    const callbacks = [...this.disconnectCallbacks];
    this.disconnectCallbacks.clear();
    for (const cb of callbacks) safely(cb, this.logger);
  }

  get connected(): boolean {
    return !this.closed;
  }

  /** Closes the connection (the transport reports back through connectionLost). */
  close(): void {
    this.flush();
    this.transport?.close();
  }

  notifyOnDisconnect(callback: () => void): () => void {
    if (this.closed) {
      queueMicrotask(callback);
      return () => {};
    }
    this.disconnectCallbacks.add(callback);
    return () => this.disconnectCallbacks.delete(callback);
  }

  private readonly pinned = new Set<RemoteReference>();

  /**
   * Keeps a reference alive (never garbage-collected, never released) for as long as
   * the connection lasts. Login pins the avatar: dropping it would log us out.
   */
  pin(ref: RemoteReference): RemoteReference {
    if (!this.closed) this.pinned.add(ref);
    return ref;
  }

  /** A reference to the peer's root object (`b'root'`), which is never refcounted. */
  remoteRoot(): RemoteReference {
    return new RemoteReference(this, 'root', { n: 0 });
  }

  /** Objects currently exported to the peer (for diagnostics and leak tests). */
  get exportedCount(): number {
    return this.exports.size + this.cacheExports.size;
  }

  /** Calls awaiting an answer from the peer. */
  get pendingCount(): number {
    return this.pending.size;
  }

  private protocolFailure(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.logger.warn(`pb: protocol error, dropping connection: ${message}`);
    this.transport?.close();
    this.connectionLost(new ProtocolError(message));
  }

  // -------------------------------------------------------------------------
  // Output

  private writeNow(value: BananaValue, vocab: boolean): void {
    encodeInto(this.out, value, vocab, this.limits.maxStringLength);
    this.scheduleFlush();
  }

  /** Queues one PB message; writes are coalesced per event-loop turn. */
  private send(value: BananaValue): void {
    if (this.closed) return;
    if (!this.dialectChosen) {
      this.held.push(value);
      return;
    }
    this.writeNow(value, true);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.out.len === 0 || !this.transport) return;
    this.transport.write(this.out.take());
  }

  // -------------------------------------------------------------------------
  // Input

  private elementReceived(value: BananaValue): void {
    if (this.closed) return;
    if (!this.dialectChosen) {
      this.negotiate(value);
      return;
    }
    const command = Array.isArray(value) ? tagOf(value[0]) : undefined;
    if (command === undefined) throw new ProtocolError('top-level element is not a command list');
    const f = value as BananaValue[];
    switch (command) {
      case 'version':
        expectFields(f, 2, command);
        if (f[1] !== PROTOCOL_VERSION) throw new ProtocolError(`unsupported PB version ${String(f[1])}`);
        return;
      case 'message':
      case 'cachemessage':
        expectFields(f, 7, command);
        if (!this.isAuthenticated && --this.callsBeforeLogin < 0)
          throw new ProtocolError('too many calls before login');
        this.callReceived(command === 'cachemessage', f[1]!, f[2]!, f[3]!, f[4]!, f[5]!, f[6]!);
        return;
      case 'answer':
        expectFields(f, 3, command);
        this.answerReceived(f[1]!, f[2]!);
        return;
      case 'error':
        expectFields(f, 3, command);
        this.errorReceived(f[1]!, f[2]!);
        return;
      case 'decref':
        expectFields(f, 2, command);
        this.decrefReceived(f[1]!);
        return;
      case 'decache':
        expectFields(f, 2, command);
        this.decacheReceived(f[1]!);
        return;
      case 'uncache':
        expectFields(f, 2, command);
        if (typeof f[1] === 'number') this.cacheImports.delete(f[1]);
        return;
      default:
        throw new ProtocolError(`unknown command ${JSON.stringify(command.slice(0, 40))}`);
    }
  }

  private negotiate(value: BananaValue): void {
    if (this.isClient) {
      // The server offers dialects in its order of preference; take the first we know.
      if (!Array.isArray(value)) throw new ProtocolError('expected the dialect list');
      const offered = value.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : ''));
      if (!offered.includes('pb')) throw new ProtocolError(`no common dialect in ${JSON.stringify(offered)}`);
      this.writeNow(enc('pb'), false);
    } else {
      if (!(value instanceof Uint8Array) || Buffer.from(value).toString('latin1') !== 'pb') {
        throw new ProtocolError('client chose a dialect we do not speak');
      }
    }
    this.dialectChosen = true;
    this.decoder.vocabEnabled = true;
    this.writeNow([M.version, PROTOCOL_VERSION], true);
    const held = this.held;
    this.held = [];
    for (const v of held) this.writeNow(v, true);
  }

  private callReceived(
    isCache: boolean,
    reqId: BananaValue,
    objectId: BananaValue,
    methodName: BananaValue,
    answerRequired: BananaValue,
    args: BananaValue,
    kw: BananaValue,
  ): void {
    if (typeof reqId !== 'number' || !(methodName instanceof Uint8Array || methodName instanceof Token)) {
      throw new ProtocolError('malformed message');
    }
    const answer = answerRequired !== 0;
    const name = methodName instanceof Token ? methodName.word : decodeText(methodName);
    let result: unknown;
    try {
      const target = isCache ? this.cacheImports.get(objectId as number)?.cache : this.localObject(objectId);
      if (!target) throw new PBError('Invalid Object ID');
      const argList = new Unjellier(this).unjelly(args);
      // Most calls have no keyword arguments: skip a whole unjelly for `['dictionary']`.
      const kwDict = Array.isArray(kw) && kw.length === 1 ? {} : new Unjellier(this).unjelly(kw);
      if (!Array.isArray(argList)) throw new InsecureJelly('arguments are not a tuple');
      if (!kwDict || typeof kwDict !== 'object' || kwDict instanceof Map) {
        throw new InsecureJelly('keyword arguments are not a dict with text keys');
      }
      result =
        target instanceof RemoteCache
          ? target.remoteMessageReceived(name, argList, kwDict as Record<string, unknown>)
          : target.remoteMessageReceived(this, name, argList, kwDict as Record<string, unknown>);
    } catch (err) {
      if (answer) this.sendError(reqId, err);
      else this.logger.debug?.(`pb: one-way call ${name} failed: ${String(err)}`);
      return;
    }
    if (!answer) {
      if (isPromise(result))
        result.catch((e) => this.logger.debug?.(`pb: one-way ${name} failed: ${String(e)}`));
      return;
    }
    if (isPromise(result)) {
      result.then(
        (v) => this.sendAnswer(reqId, v),
        (e) => this.sendError(reqId, e),
      );
    } else {
      this.sendAnswer(reqId, result);
    }
  }

  private localObject(objectId: BananaValue): Referenceable | undefined {
    if (objectId instanceof Uint8Array || objectId instanceof Token) {
      return tagOf(objectId) === 'root' ? this.root : undefined;
    }
    return typeof objectId === 'number' ? this.exports.get(objectId)?.object : undefined;
  }

  private sendAnswer(reqId: number, value: unknown): void {
    if (this.closed) return;
    let form: BananaValue;
    try {
      form = new Jellier(this, this.perspective).jelly(value);
    } catch (err) {
      this.sendError(reqId, err);
      return;
    }
    this.send([M.answer, reqId, form]);
  }

  private sendError(reqId: number, err: unknown): void {
    if (this.closed) return;
    const failure = new CopyableFailure(err, this.unsafeTracebacks);
    this.send([M.error, reqId, new Jellier(this).jelly(failure)]);
  }

  private takePending(reqId: BananaValue): Pending {
    const p = typeof reqId === 'number' ? this.pending.get(reqId) : undefined;
    if (!p) throw new ProtocolError(`answer for unknown request ${String(reqId)}`);
    this.pending.delete(reqId as number);
    return p;
  }

  private answerReceived(reqId: BananaValue, result: BananaValue): void {
    const p = this.takePending(reqId);
    // A payload that does not unjelly is fatal for this connection, as in Twisted.
    let value: unknown;
    try {
      value = new Unjellier(this).unjelly(result);
    } catch (err) {
      p.reject(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    p.resolve(value);
  }

  private errorReceived(reqId: BananaValue, failure: BananaValue): void {
    const p = this.takePending(reqId);
    let value: unknown;
    try {
      value = new Unjellier(this).unjelly(failure);
    } catch (err) {
      p.reject(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    p.reject(errorFromFailure(value));
  }

  private decrefReceived(luid: BananaValue): void {
    const entry = typeof luid === 'number' ? this.exports.get(luid) : undefined;
    if (!entry) throw new ProtocolError(`decref for unknown object ${String(luid)}`);
    if (--entry.refs > 0) return;
    this.exports.delete(luid as number);
    this.luidOf.delete(entry.object);
    this.onUnexported?.(entry.object);
  }

  /** Called when the peer dropped its last reference to an object we exported. */
  onUnexported?: (object: Referenceable) => void;

  private decacheReceived(cacheId: BananaValue): void {
    const entry = typeof cacheId === 'number' ? this.cacheExports.get(cacheId) : undefined;
    if (!entry) throw new ProtocolError(`decache for unknown cache ${String(cacheId)}`);
    if (--entry.refs > 0) return;
    this.cacheExports.delete(cacheId as number);
    this.cacheIdOf.delete(entry.object);
    safely(() => entry.object.stoppedObserving(entry.observer.perspective, entry.observer), this.logger);
    this.send([M.uncache, cacheId]);
  }

  // -------------------------------------------------------------------------
  // Outgoing calls

  /** @internal Used by RemoteReference. */
  sendCall(ref: RemoteReference, name: string, args: unknown[], answer: boolean): Promise<unknown> {
    if (ref.broker !== this) return Promise.reject(new PBError('reference belongs to another connection'));
    if (ref.luid !== 'root' && ref.count.n === 0) {
      return Promise.reject(new PBError(`remote reference ${ref.luid} was released`));
    }
    return this.call(M.message, ref.luid === 'root' ? M.root : ref.luid, name, args, answer);
  }

  /** @internal Used by RemoteCacheObserver. */
  sendCacheMessage(cacheId: number, name: string, args: unknown[], answer: boolean): Promise<unknown> {
    if (!this.cacheExports.has(cacheId)) return Promise.resolve(undefined);
    return this.call(M.cachemessage, cacheId, name, args, answer);
  }

  private call(
    kind: Token,
    target: BananaValue,
    name: string,
    args: unknown[],
    answer: boolean,
  ): Promise<unknown> {
    if (this.closed) return Promise.reject(new ConnectionLostError(`connection lost before calling ${name}`));
    let kw: Record<string, unknown> | undefined;
    const last = args[args.length - 1];
    if (last instanceof Kwargs) {
      kw = last.values;
      args = args.slice(0, -1);
    }
    let argForm: BananaValue;
    let kwForm: BananaValue;
    try {
      // The positional arguments are one jelly scope, as in Twisted: shared values stay shared.
      const j = new Jellier(this);
      argForm =
        args.length === 0
          ? EMPTY_TUPLE
          : j.container(args, M.tuple, (out) => {
              for (const a of args) out.push(j.jelly(a));
            });
      kwForm = kw && Object.keys(kw).length ? new Jellier(this).jelly(kw) : EMPTY_DICT;
    } catch (err) {
      return Promise.reject(err);
    }
    const reqId = this.nextRequestId++;
    const message: BananaValue = [kind, reqId, target, new Utf8(name), answer ? 1 : 0, argForm, kwForm];
    if (!answer) {
      this.send(message);
      return Promise.resolve(undefined);
    }
    return new Promise((resolve, reject) => {
      this.pending.set(reqId, { resolve, reject, method: name });
      this.send(message);
    });
  }

  // -------------------------------------------------------------------------
  // Reference counting

  /** @internal Sends the decrefs owed for an imported reference. */
  releaseImport(ref: RemoteReference): void {
    if (ref.luid === 'root' || ref.count.n === 0) return;
    if (this.imports.get(ref.luid)?.deref() === ref) this.imports.delete(ref.luid);
    this.sendDecrefs(ref.luid, ref.count);
  }

  /** @internal */
  sendDecrefs(luid: number, count: ImportCount): void {
    const n = count.n;
    count.n = 0;
    if (this.closed) return;
    const existing = this.imports.get(luid);
    if (existing && existing.deref() === undefined) this.imports.delete(luid);
    for (let i = 0; i < n; i++) this.send([M.decref, luid]);
  }

  /** @internal */
  releaseCache(cache: RemoteCache): void {
    const entry = this.cacheImports.get(cache.pbCacheId);
    if (!entry || entry.cache !== cache || entry.refs === 0) return;
    const n = entry.refs;
    entry.refs = 0;
    for (let i = 0; i < n; i++) this.send([M.decache, cache.pbCacheId]);
  }

  private exportReference(object: Referenceable): number {
    let luid = this.luidOf.get(object);
    if (luid !== undefined) {
      this.exports.get(luid)!.refs++;
      return luid;
    }
    if (this.exports.size >= this.maxExportedRefs) {
      throw new PBError('Maximum PB reference count exceeded.');
    }
    luid = this.nextLuid++;
    this.exports.set(luid, { object, refs: 1 });
    this.luidOf.set(object, luid);
    return luid;
  }

  private importReference(luid: number): RemoteReference {
    const existing = this.imports.get(luid)?.deref();
    if (existing && existing.count.n > 0) {
      existing.count.n++;
      return existing;
    }
    const count = { n: 1 };
    const ref = new RemoteReference(this, luid, count);
    this.imports.set(luid, new WeakRef(ref));
    finalizer.register(ref, { broker: this.selfRef, luid, count });
    return ref;
  }

  // -------------------------------------------------------------------------
  // FlavorCodec: how connection-bound objects are jellied

  jellyFlavor(value: object, jellier: Jellier): BananaValue | undefined {
    if (value instanceof Referenceable) return [M.remote, this.exportReference(value)];
    if (value instanceof RemoteReference) {
      if (value.broker !== this) throw new PBError("Can't send references to brokers other than their own.");
      return value.luid === 'root' ? [M.local, M.root] : [M.local, value.luid];
    }
    if (value instanceof Viewable) {
      return [M.remote, this.exportReference(new ViewPoint(jellier.perspective ?? this.perspective, value))];
    }
    if (value instanceof Cacheable) return this.jellyCacheable(value, jellier);
    if (value instanceof RemoteCache && value.pbBroker === this) return [M.lcache, value.pbCacheId];
    return undefined;
  }

  private jellyCacheable(value: Cacheable, jellier: Jellier): BananaValue {
    const known = this.cacheIdOf.get(value);
    if (known !== undefined) {
      this.cacheExports.get(known)!.refs++;
      return [M.cached, known];
    }
    if (this.cacheExports.size >= this.maxExportedRefs) {
      throw new PBError('Maximum PB cache count exceeded.');
    }
    const id = this.nextLuid++;
    const perspective = jellier.perspective ?? this.perspective;
    const observer = new RemoteCacheObserver(this, id, value, perspective);
    this.cacheExports.set(id, { object: value, refs: 1, observer });
    this.cacheIdOf.set(value, id);
    return jellier.container(value, enc(value.getTypeToCopy()), (out) => {
      out.push(id, jellier.jelly(value.getStateToCacheAndObserveFor(perspective, observer)));
    });
  }

  unjellyFlavor(tag: string, form: BananaValue[], unjellier: Unjellier): { value: unknown } | undefined {
    switch (tag) {
      case 'remote': {
        const luid = form[1];
        if (typeof luid !== 'number' || form.length !== 2) throw new InsecureJelly('malformed remote');
        return { value: this.importReference(luid) };
      }
      case 'local': {
        const luid = form[1];
        if (form.length !== 2) throw new InsecureJelly('malformed local');
        return { value: this.localObject(luid!) ?? null };
      }
      case 'cached': {
        const entry = typeof form[1] === 'number' ? this.cacheImports.get(form[1]) : undefined;
        if (!entry) throw new InsecureJelly(`unknown cache id ${String(form[1])}`);
        entry.refs++;
        return { value: entry.cache };
      }
      case 'lcache': {
        const entry = typeof form[1] === 'number' ? this.cacheExports.get(form[1]) : undefined;
        return { value: entry?.object ?? null };
      }
    }
    if (form.length !== 3 || typeof form[1] !== 'number') return undefined;
    const cls = remoteCopyClass(tag);
    if (!cls || !(cls.prototype instanceof RemoteCache)) return undefined;
    const cacheId = form[1];
    const cache = new cls() as RemoteCache;
    cache.pbBroker = this;
    cache.pbCacheId = cacheId;
    const prior = this.cacheImports.get(cacheId);
    this.cacheImports.set(cacheId, { cache, refs: (prior?.refs ?? 0) + 1 });
    cache.setCopyableState(unjellier.unjelly(form[2]!));
    return { value: cache };
  }
}

function expectFields(f: BananaValue[], n: number, command: string): void {
  if (f.length !== n) throw new ProtocolError(`${command} has ${f.length - 1} fields, expected ${n - 1}`);
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof (v as Promise<unknown> | undefined)?.then === 'function';
}

function safely(fn: () => void, logger: PBLogger): void {
  try {
    fn();
  } catch (err) {
    logger.warn(`pb: callback failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export { RemoteError };
