/**
 * Binds a broker to a stream socket (plain TCP or TLS — both are `net.Socket`s).
 *
 * Back-pressure: when the peer stops reading our output, we stop reading its input,
 * so a client that floods calls without reading answers cannot grow our buffers.
 */

import type { Socket } from 'node:net';
import type { Broker } from '../broker.js';

/** How long a closing connection may wait for the peer before it is cut. */
const CLOSE_GRACE_MS = 2000;

export function attachSocket(broker: Broker, socket: Socket): void {
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 60_000);
  let closing = false;
  broker.connectionMade({
    write(data) {
      if (socket.destroyed) return;
      if (!socket.write(data)) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    },
    close() {
      if (closing) return;
      closing = true;
      // A peer that has not logged in is owed no graceful close; cut at once, it can neither
      // keep its descriptor nor make us read (and allocate for) what it sends after an error.
      if (!broker.authenticated) {
        socket.destroy();
        return;
      }
      socket.end();
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    },
  });
  socket.on('data', (chunk: Buffer) => broker.dataReceived(chunk));
  socket.on('error', () => {
    // 'close' follows and reports the loss; errors such as ECONNRESET need nothing more.
  });
  socket.on('close', () => broker.connectionLost());
}
