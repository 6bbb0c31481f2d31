/**
 * Admission of connections that have not logged in yet, on a server with a portal.
 *
 * Each such connection holds a file descriptor and a little memory, and costs its peer
 * nothing, so both their number and their life are bounded: at most `maxConnections` in
 * all and `maxConnectionsPerSource` from one source address, each cut if it has not
 * logged in after `loginTimeoutMs`. A newcomer over a limit is let in and the *oldest*
 * such connection of the same source (or, over the total, of the source holding the
 * most) is cut instead: a flood then only ever displaces itself, and a real client —
 * whose login takes a few round trips — gets in even from a flooding address.
 * Connections that have logged in do not count.
 */

import { isIPv6, type Socket } from 'node:net';
import type { PBLogger } from '../broker.js';

export interface AdmissionLimits {
  /** Connections not logged in, in all. */
  maxConnections: number;
  /** Connections not logged in from one source: an IPv4 address or an IPv6 /64. */
  maxConnectionsPerSource: number;
  /** A connection that has not logged in this long after it was accepted is cut. */
  loginTimeoutMs: number;
}

interface Waiting {
  readonly socket: Socket;
  readonly peer: string;
  readonly source: string;
  readonly timer: NodeJS.Timeout;
}

export class PreLoginAdmission {
  readonly #limits: AdmissionLimits;
  readonly #log: PBLogger;
  /** Per source, in order of arrival (a Set iterates in insertion order). */
  readonly #bySource = new Map<string, Set<Waiting>>();
  /** By `address:port`, to find a TLS connection's entry from its raw socket's. */
  readonly #byPeer = new Map<string, Waiting>();

  constructor(limits: AdmissionLimits, log: PBLogger) {
    this.#limits = limits;
    this.#log = log;
  }

  /** Connections waiting to log in. */
  get waiting(): number {
    return this.#byPeer.size;
  }

  /** Registers a freshly accepted socket, cutting an older connection if a limit is reached. */
  admit(socket: Socket): void {
    // No address: the peer is already gone.
    if (socket.remoteAddress === undefined) return void socket.destroy();
    const peer = peerOf(socket);
    const source = sourceOf(socket.remoteAddress);
    const own = this.#bySource.get(source);
    if (own && own.size >= this.#limits.maxConnectionsPerSource) {
      this.#cutOldest(own, `${own.size} connections from ${source} have not logged in`);
    } else if (this.#byPeer.size >= this.#limits.maxConnections) {
      this.#cutOldest(this.#largestSource(), `${this.#byPeer.size} connections have not logged in`);
    }
    const entry: Waiting = {
      socket,
      peer,
      source,
      timer: setTimeout(() => {
        this.#log.warn(`pb: ${peer} did not log in within ${this.#limits.loginTimeoutMs} ms, disconnecting`);
        this.#cut(entry);
      }, this.#limits.loginTimeoutMs).unref(),
    };
    const peers = this.#bySource.get(source) ?? new Set();
    this.#bySource.set(source, peers);
    peers.add(entry);
    this.#byPeer.set(peer, entry);
    socket.once('close', () => this.#forget(entry));
  }

  /** The connection to `peer` (an accepted or TLS socket) logged in: it no longer counts. */
  loggedIn(socket: Socket): void {
    const entry = this.#byPeer.get(peerOf(socket));
    if (entry) this.#forget(entry);
  }

  #cutOldest(peers: Set<Waiting>, why: string): void {
    const oldest = peers.values().next().value;
    if (!oldest) return;
    this.#log.warn(`pb: ${why}; disconnecting the oldest, ${oldest.peer}`);
    this.#cut(oldest);
  }

  #cut(entry: Waiting): void {
    this.#forget(entry);
    entry.socket.destroy();
  }

  #forget(entry: Waiting): void {
    clearTimeout(entry.timer);
    if (this.#byPeer.get(entry.peer) === entry) this.#byPeer.delete(entry.peer);
    const peers = this.#bySource.get(entry.source);
    if (!peers?.delete(entry)) return;
    if (peers.size === 0) this.#bySource.delete(entry.source);
  }

  #largestSource(): Set<Waiting> {
    let largest = new Set<Waiting>();
    for (const peers of this.#bySource.values()) if (peers.size > largest.size) largest = peers;
    return largest;
  }
}

function peerOf(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}

/**
 * The unit one party controls: an IPv4 address, or an IPv6 /64 (a single host is
 * commonly given a whole /64, so counting its addresses one by one would count nothing).
 */
export function sourceOf(address: string | undefined): string {
  if (!address) return '?';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = address.includes('::') ? 8 - headGroups.length - tailGroups.length : 0;
  const groups = [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
