/**
 * Logging in to a perspective: a portal checks the password (challenge–response, the
 * password never crosses the wire), a realm hands out an avatar per user, and the
 * client's "mind" lets the server call the client back.
 *
 *   ./dev node examples/pb/login.ts
 */
import {
  Avatar,
  connect,
  listen,
  PasswordChecker,
  Portal,
  Referenceable,
  RemoteError,
  type RemoteReference,
} from '@lathe/pb';

class Developer extends Avatar {
  readonly name: string;
  readonly mind: RemoteReference;
  constructor(name: string, mind: RemoteReference) {
    super();
    this.name = name;
    this.mind = mind;
  }
  perspective_whoami() {
    return this.name;
  }
  async perspective_pokeMe() {
    return this.mind.callRemote('poked', `hello ${this.name}`);
  }
}

const portal = new Portal(
  {
    requestAvatar: (name, mind) => ({
      avatar: new Developer(String(name), mind as RemoteReference),
      logout: () => console.log(`${String(name)} logged out`),
    }),
  },
  [new PasswordChecker({ ada: 'lovelace' })],
);
const server = await listen({ port: 0, portal });

const conn = await connect({ host: '127.0.0.1', port: server.port });
const mind = new (class extends Referenceable {
  remote_poked(msg: string) {
    return `client got "${msg}"`;
  }
})();
const me = await conn.login('ada', 'lovelace', mind);
console.log('whoami:', await me.callRemote('whoami'));
console.log('pokeMe:', await me.callRemote('pokeMe'));

const intruder = await connect({ host: '127.0.0.1', port: server.port });
try {
  await intruder.login('ada', 'guess');
} catch (e) {
  console.log('wrong password:', e instanceof RemoteError ? e.remoteType : e);
}
intruder.close();
conn.close();
await conn.closed;
await new Promise((r) => setTimeout(r, 50));
await server.close();
