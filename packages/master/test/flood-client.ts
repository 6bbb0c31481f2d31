// A hostile peer for flood tests and bench/flood: idle connections, elements that never end,
// malformed frames and failed logins, from chosen local addresses (every 127.x.y.z is this
// machine, so one process can play many sources), plus /proc figures of the process under fire.
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { connect } from '@lathe/pb';

/** The 'pb' dialect and ['version', 6]: what a client sends first. */
const HANDSHAKE = Buffer.from('02827062028013870681', 'hex');
/** A LIST announcing 200 items: an element that only ends when they have all arrived. */
const OPEN_LIST = Buffer.from('480180', 'hex');
/** One STRING item of 64 KiB (header 0x10000 = digits 0, 0, 4). */
const BIG_ITEM = Buffer.concat([Buffer.from('00000482', 'hex'), Buffer.alloc(64 * 1024, 0x41)]);

export interface FloodTarget {
  readonly host?: string;
  readonly port: number;
}

export class Flood {
  readonly #sockets = new Set<net.Socket>();
  /** Connections the server cut (or refused) so far. */
  cut = 0;

  /** Flood connections still open. */
  get open(): number {
    return this.#sockets.size;
  }

  async #connect(target: FloodTarget, localAddress: string): Promise<net.Socket | null> {
    const socket = net.connect({ host: target.host ?? '127.0.0.1', port: target.port, localAddress });
    socket.on('error', () => {});
    socket.resume();
    try {
      await once(socket, 'connect');
    } catch {
      this.cut++;
      return null;
    }
    this.#sockets.add(socket);
    socket.once('close', () => {
      if (this.#sockets.delete(socket)) this.cut++;
    });
    return socket;
  }

  /** `count` connections spread over `sources` that send the handshake and then nothing. */
  async idle(target: FloodTarget, count: number, sources: readonly string[]): Promise<void> {
    for (let i = 0; i < count; i++) {
      const socket = await this.#connect(target, sources[i % sources.length]!);
      socket?.write(HANDSHAKE);
    }
  }

  /**
   * `count` connections that each start an element and feed it up to `bytesEach` bytes
   * without ever finishing it: what a server buffers before the element completes.
   */
  async memory(target: FloodTarget, count: number, bytesEach: number, source: string): Promise<void> {
    const sockets: net.Socket[] = [];
    for (let i = 0; i < count; i++) {
      const socket = await this.#connect(target, source);
      if (!socket) continue;
      socket.write(Buffer.concat([HANDSHAKE, OPEN_LIST]));
      sockets.push(socket);
    }
    const feed = async (socket: net.Socket) => {
      for (let sent = 0; sent + BIG_ITEM.length <= bytesEach && !socket.destroyed; sent += BIG_ITEM.length) {
        if (!socket.write(BIG_ITEM)) {
          await new Promise<void>((resolve) => {
            socket.once('drain', resolve);
            socket.once('close', resolve);
          });
        }
      }
    };
    await Promise.all(sockets.map(feed));
  }

  /** `count` connections that each send an invalid frame (each worth a warning). */
  async malformed(target: FloodTarget, count: number, source: string): Promise<void> {
    for (let i = 0; i < count; i++) {
      const socket = await this.#connect(target, source);
      socket?.write(Buffer.concat([HANDSHAKE, Buffer.from('0088', 'hex')]));
    }
  }

  /** `count` logins with wrong passwords, as `name-<i>`, one connection each (from 127.0.0.1). */
  async failedLogins(target: FloodTarget, count: number, name: string): Promise<void> {
    for (let i = 0; i < count; i++) {
      try {
        const conn = await connect({
          host: target.host ?? '127.0.0.1',
          port: target.port,
          logger: { warn: () => {} },
        });
        await conn.login(`${name}-${i}`, 'wrong').catch(() => {});
        conn.close();
      } catch {
        this.cut++;
      }
    }
  }

  close(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }
}

/** Resident memory of a process, in bytes (VmRSS). */
export function rssOf(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!line) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line[1]) * 1024;
}

/** Open file descriptors of a process. */
export function fdsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
