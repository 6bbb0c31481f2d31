/**
 * PB's object flavors: how an object behaves when it crosses a connection.
 *
 * - {@link Referenceable}: passed by reference. The peer gets a
 *   {@link RemoteReference}; its calls run our `remote_<name>` methods.
 * - {@link Avatar}: the object a login hands out; calls run `perspective_<name>`.
 * - {@link Viewable}: passed by reference, but each call also learns *who* is calling
 *   (the caller's avatar): `view_<name>(perspective, …)`.
 * - `Copyable` / `RemoteCopy` (in jelly.ts): passed by value.
 * - {@link Cacheable} / {@link RemoteCache}: passed by value once, then kept in step
 *   by update messages to `observe_<name>` on every copy.
 *
 * The method-name prefixes are the security boundary: a peer can reach only methods
 * whose names say they are meant to be reached.
 */

import type { Broker } from './broker.js';
import { NoSuchMethod } from './failure.js';
import { Kwargs } from './jelly.js';

type Method = (...args: unknown[]) => unknown;

function dispatch(
  target: object,
  prefix: string,
  name: string,
  args: unknown[],
  kw: Record<string, unknown>,
) {
  const method = (target as Record<string, unknown>)[prefix + name];
  if (typeof method !== 'function') {
    throw new NoSuchMethod(`${target.constructor?.name ?? 'object'} has no method ${prefix}${name}`);
  }
  return (method as Method).apply(target, Object.keys(kw).length ? [...args, new Kwargs(kw)] : args);
}

/**
 * An object the peer can call. Subclass it and name remote methods `remote_<name>`;
 * keyword arguments, when the caller sent any, arrive as a final {@link Kwargs}.
 *
 * @example
 * class Calculator extends Referenceable {
 *   remote_add(a: number, b: number) { return a + b; }
 * }
 */
export class Referenceable {
  /** Called by the broker for each incoming call; override to dispatch differently. */
  remoteMessageReceived(
    _broker: Broker,
    name: string,
    args: unknown[],
    kw: Record<string, unknown>,
  ): unknown | Promise<unknown> {
    return dispatch(this, 'remote_', name, args, kw);
  }
}

/** Builds a Referenceable from a plain object of methods: `referenceable({ echo: (x) => x })`. */
export function referenceable(methods: Record<string, (...args: never[]) => unknown>): Referenceable {
  const obj = new Referenceable();
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(obj, `remote_${name}`, { value: fn, enumerable: false });
  }
  return obj;
}

/** What a successful login returns: an object whose methods are `perspective_<name>`. */
export class Avatar extends Referenceable {
  override remoteMessageReceived(
    _broker: Broker,
    name: string,
    args: unknown[],
    kw: Record<string, unknown>,
  ) {
    return dispatch(this, 'perspective_', name, args, kw);
  }
}

/** Like a Referenceable, but each call receives the caller's perspective first. */
export class Viewable {
  /** Override to dispatch differently; by default calls `view_<name>(perspective, …args)`. */
  viewMessageReceived(
    perspective: unknown,
    name: string,
    args: unknown[],
    kw: Record<string, unknown>,
  ): unknown {
    return dispatch(this, 'view_', name, [perspective, ...args], kw);
  }
}

/** The reference actually exported for a Viewable: binds it to one perspective. */
export class ViewPoint extends Referenceable {
  constructor(
    readonly perspective: unknown,
    readonly viewable: Viewable,
  ) {
    super();
  }
  override remoteMessageReceived(
    _broker: Broker,
    name: string,
    args: unknown[],
    kw: Record<string, unknown>,
  ) {
    return this.viewable.viewMessageReceived(this.perspective, name, args, kw);
  }
}

/** Counts how many times the peer sent us one luid; shared with the finalizer. */
export interface ImportCount {
  n: number;
}

/**
 * A proxy for an object the peer exported. Calls return Promises that settle with the
 * peer's answer or reject with a `RemoteError` (or `ConnectionLostError`).
 *
 * The peer keeps the object alive until we drop it: call {@link release} when done;
 * a reference that is garbage-collected is released automatically.
 */
export class RemoteReference {
  constructor(
    readonly broker: Broker,
    readonly luid: number | 'root',
    /** @internal */ readonly count: ImportCount,
  ) {}

  /**
   * Calls `name` on the remote object. If the last argument is `kwargs({...})`, it
   * is sent as Python keyword arguments.
   */
  callRemote<R = unknown>(name: string, ...args: unknown[]): Promise<R> {
    return this.broker.sendCall(this, name, args, true) as Promise<R>;
  }

  /** Calls without asking for an answer (`answerRequired = 0`): nothing comes back. */
  callRemoteNoAnswer(name: string, ...args: unknown[]): void {
    void this.broker.sendCall(this, name, args, false);
  }

  /** Sends the peer the decrefs it is owed; the reference must not be used afterwards. */
  release(): void {
    this.broker.releaseImport(this);
  }

  /** Runs `callback` once when the connection this reference lives on closes. */
  notifyOnDisconnect(callback: () => void): () => void {
    return this.broker.notifyOnDisconnect(callback);
  }

  get connected(): boolean {
    return this.broker.connected;
  }
}

/**
 * Passed by value once, then kept up to date: the peer gets a {@link RemoteCache}
 * copy, and the `observer` handed to `getStateToCacheAndObserveFor` pushes updates
 * to it (`observer.callRemote('setValue', 3)` runs `observe_setValue(3)` there).
 */
export class Cacheable {
  static copyTag?: string;
  getTypeToCopy(): string {
    const ctor = this.constructor as typeof Cacheable;
    return ctor.copyTag ?? ctor.name;
  }
  getStateToCacheAndObserveFor(_perspective: unknown, _observer: RemoteCacheObserver): unknown {
    return { ...this };
  }
  stoppedObserving(_perspective: unknown, _observer: RemoteCacheObserver): void {}
}

/** One peer's view of a Cacheable: send updates through it. */
export class RemoteCacheObserver {
  constructor(
    readonly broker: Broker,
    readonly cacheId: number,
    readonly cacheable: Cacheable,
    readonly perspective: unknown,
  ) {}
  callRemote<R = unknown>(name: string, ...args: unknown[]): Promise<R> {
    return this.broker.sendCacheMessage(this.cacheId, name, args, true) as Promise<R>;
  }
  callRemoteNoAnswer(name: string, ...args: unknown[]): void {
    void this.broker.sendCacheMessage(this.cacheId, name, args, false);
  }
}

/**
 * The receiving side of a Cacheable. Register a subclass with `registerRemoteCopy`
 * under the Cacheable's tag; name update handlers `observe_<name>`.
 */
export class RemoteCache {
  /** @internal set by the broker that created this copy */
  pbBroker?: Broker;
  /** @internal */
  pbCacheId = 0;
  setCopyableState(state: unknown): void {
    if (state && typeof state === 'object' && !(state instanceof Map)) Object.assign(this, state);
  }
  remoteMessageReceived(name: string, args: unknown[], kw: Record<string, unknown>): unknown {
    return dispatch(this, 'observe_', name, args, kw);
  }
  /** Tells the origin we dropped this copy (one decache per copy received). */
  release(): void {
    this.pbBroker?.releaseCache(this);
  }
}
