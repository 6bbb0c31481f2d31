/**
 * Passing a reference back: the client hands the server one of its own objects, and
 * the server calls methods on it later — the heart of PB's object-capability model.
 *
 *   ./dev node examples/pb/callbacks.ts
 */
import { connect, listen, Referenceable, type RemoteReference } from '@lathe/pb';

/** Server side: remembers listeners and notifies them. */
class Announcer extends Referenceable {
  private listeners: RemoteReference[] = [];
  remote_subscribe(listener: RemoteReference): number {
    this.listeners.push(listener);
    return this.listeners.length;
  }
  async remote_announce(news: string): Promise<unknown[]> {
    // Each listener answers; their answers travel back to the announcer.
    return Promise.all(this.listeners.map((l) => l.callRemote('hear', news)));
  }
}

/** Client side: an object the server may call. */
class Listener extends Referenceable {
  readonly name: string;
  constructor(name: string) {
    super();
    this.name = name;
  }
  remote_hear(news: string): string {
    console.log(`${this.name} heard: ${news}`);
    return `${this.name} ok`;
  }
}

const server = await listen({ port: 0, root: new Announcer() });
const conn = await connect({ host: '127.0.0.1', port: server.port });
const announcer = conn.root();
await announcer.callRemote('subscribe', new Listener('ada'));
await announcer.callRemote('subscribe', new Listener('bob'));
console.log('answers:', await announcer.callRemote('announce', 'the build is green'));
conn.close();
await server.close();
