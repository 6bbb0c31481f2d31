/**
 * @lathe/pb — Perspective Broker for TypeScript, byte-compatible with Twisted.
 *
 * PB is an object-capability RPC: a peer can call only the objects it has been
 * handed, and only their methods named for remote use. Objects cross the wire by
 * reference ({@link Referenceable} → {@link RemoteReference}), by value
 * ({@link Copyable} → {@link RemoteCopy}), or by value kept up to date
 * ({@link Cacheable} → {@link RemoteCache}). A server usually sits behind a cred
 * {@link Portal}: a client logs in with a name and password (never sent in clear)
 * and receives an avatar whose `perspective_*` methods it may call.
 *
 * Layers, each in its own module:
 * - `banana.ts` — the wire encoding (framing, limits, streaming decoder)
 * - `jelly.ts` — object graphs ↔ s-expressions; `values.ts` — Python value stand-ins
 * - `broker.ts` — one connection: calls, answers, errors, reference counting, caches
 * - `flavors.ts` — Referenceable, Avatar, Viewable, RemoteReference, Cacheable, RemoteCache
 * - `failure.ts` — errors across the wire (Twisted's CopyableFailure)
 * - `cred.ts` — portal, checkers, realm, challenge–response login
 * - `transport/` — TCP and TLS servers and clients, reconnection with backoff
 *
 * @example A server and a client
 * ```ts
 * import { connect, listen, Referenceable } from '@lathe/pb';
 *
 * class Calculator extends Referenceable {
 *   remote_add(a: number, b: number) { return a + b; }
 * }
 * const server = await listen({ port: 0, root: new Calculator() });
 * const conn = await connect({ host: '127.0.0.1', port: server.port });
 * console.log(await conn.root().callRemote('add', 2, 3)); // 5
 * ```
 */

export * from './banana.js';
export { Broker, type BrokerOptions, type BrokerPreLogin, type PBLogger, type Transport } from './broker.js';
export * from './cred.js';
export * from './failure.js';
export {
  Avatar,
  Cacheable,
  Referenceable,
  RemoteCache,
  RemoteCacheObserver,
  RemoteReference,
  referenceable,
  Viewable,
  ViewPoint,
} from './flavors.js';
export {
  Copyable,
  type FlavorCodec,
  InsecureJelly,
  Jellier,
  JellyError,
  jelly,
  Kwargs,
  kwargs,
  RemoteCopy,
  registerRemoteCopy,
  remoteCopyClass,
  Unjellier,
  type Unjellyable,
  unjelly,
  unregisterRemoteCopy,
} from './jelly.js';
export { RateLimitedLogger, type RateLimitOptions } from './log-limit.js';
export { type AdmissionLimits, sourceOf } from './transport/admission.js';
export { ReconnectingClient, type ReconnectOptions } from './transport/reconnect.js';
export { attachSocket } from './transport/socket.js';
export {
  ConnectError,
  type ConnectionOptions,
  type ConnectOptions,
  connect,
  DEFAULT_ADMISSION_LIMITS,
  type ListenOptions,
  listen,
  PBConnection,
  PBServer,
  type PreLoginOptions,
} from './transport/tcp.js';
export * from './values.js';
export { PB_VOCABULARY } from './vocab.js';
