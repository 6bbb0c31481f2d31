import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  AnonymousChecker,
  Avatar,
  ConnectError,
  ConnectionLostError,
  connect,
  kwargs,
  listen,
  NoSuchMethod,
  PasswordChecker,
  type PBConnection,
  PBError,
  type PBServer,
  Portal,
  ReconnectingClient,
  Referenceable,
  RemoteError,
  RemoteReference,
  referenceable,
  tuple,
  Viewable,
} from '../src/index.js';
import { Counter, RemoteCounter, RemoteThing, Thing } from './pbtypes.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

class Calc extends Referenceable {
  counter = new Counter();
  kept: RemoteReference[] = [];
  remote_add(a: number, b: number) {
    return a + b;
  }
  remote_addKw(a: number, kw?: { values: { b?: number } }) {
    return a + (kw?.values.b ?? 0);
  }
  remote_echo(x: unknown) {
    return x;
  }
  async remote_slowEcho(x: unknown, ms: number) {
    await new Promise((r) => setTimeout(r, ms));
    return x;
  }
  remote_fail() {
    throw new RangeError('deliberate failure');
  }
  async remote_failAsync() {
    throw new PBError('async failure');
  }
  async remote_callMeBack(ref: RemoteReference, v: unknown, release = false) {
    const answer = await ref.callRemote('ping', v);
    if (release) ref.release();
    return answer;
  }
  remote_keep(ref: RemoteReference) {
    this.kept.push(ref);
    return this.kept.length;
  }
  remote_getSelf() {
    return this;
  }
  remote_isSame(x: unknown) {
    return x === this;
  }
  remote_getThing() {
    return new Thing('widget', [1, 2, 3]);
  }
  remote_describeThing(t: RemoteThing) {
    return `${t.constructor.name}:${t.name}:${t.values?.join(',')}`;
  }
  remote_getCounter() {
    return this.counter;
  }
  remote_bump() {
    return this.counter.bump();
  }
  remote_observerCount() {
    return this.counter.observers.size;
  }
}

describe('broker between two Lathe peers over TCP', () => {
  let server: PBServer;
  let conn: PBConnection;
  let calc: Calc;
  before(async () => {
    calc = new Calc();
    server = await listen({ port: 0, root: calc });
    conn = await connect({ host: '127.0.0.1', port: server.port });
  });
  after(async () => {
    conn.close();
    await server.close();
  });

  it('calls remote methods with positional and keyword arguments', async () => {
    const root = conn.root();
    assert.equal(await root.callRemote('add', 2, 3), 5);
    assert.equal(await root.callRemote('addKw', 2, kwargs({ b: 40 })), 42);
    assert.equal(await root.callRemote('addKw', 2), 2);
  });

  it('answers out of order while many calls are in flight', async () => {
    const root = conn.root();
    const slow = root.callRemote('slowEcho', 'slow', 50);
    const fast = await Promise.all(Array.from({ length: 1000 }, (_, i) => root.callRemote('echo', i)));
    assert.deepEqual(
      fast,
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.equal(await slow, 'slow');
  });

  it('turns remote failures into typed errors', async () => {
    const root = conn.root();
    await assert.rejects(root.callRemote('fail'), (e: unknown) => {
      assert.ok(e instanceof RemoteError);
      assert.equal(e.remoteType, 'builtins.ValueError');
      assert.equal(e.remoteValue, 'deliberate failure');
      assert.ok(e.check('builtins.Exception'));
      return true;
    });
    await assert.rejects(root.callRemote('failAsync'), (e: unknown) => {
      assert.ok(e instanceof RemoteError && e.remoteType === 'twisted.spread.pb.Error');
      return true;
    });
    await assert.rejects(root.callRemote('noSuchThing'), (e: unknown) => {
      assert.ok(e instanceof RemoteError && e.remoteType === new NoSuchMethod().pythonType);
      return true;
    });
    const self = await root.callRemote<RemoteReference>('getSelf');
    // Still usable after errors.
    assert.equal(await self.callRemote('add', 1, 1), 2);
  });

  it('passes references both ways and calls back through them', async () => {
    const root = conn.root();
    const pinger = referenceable({ ping: (v: number) => v * 2 });
    assert.equal(await root.callRemote('callMeBack', pinger, 21), 42);
    const self = await root.callRemote<RemoteReference>('getSelf');
    assert.ok(self instanceof RemoteReference);
    assert.equal(
      await root.callRemote('isSame', self),
      true,
      'a reference sent back arrives as the local object',
    );
    assert.equal(await root.callRemote('isSame', 5), false);
  });

  it('copies Copyables by value both ways', async () => {
    const root = conn.root();
    const t = await root.callRemote<RemoteThing>('getThing');
    assert.ok(t instanceof RemoteThing);
    assert.equal(t.name, 'widget');
    assert.deepEqual(t.values, [1, 2, 3]);
    assert.equal(await root.callRemote('describeThing', new Thing('gadget', [4])), 'RemoteThing:gadget:4');
  });

  it('keeps Cacheables up to date and uncaches when every copy is dropped', async () => {
    const root = conn.root();
    const c1 = await root.callRemote<RemoteCounter>('getCounter');
    assert.ok(c1 instanceof RemoteCounter);
    const before = c1.value;
    await root.callRemote('bump');
    await root.callRemote('bump');
    await root.callRemote('echo', null); // the updates were sent before this answer
    assert.equal(c1.value, before + 2);
    assert.deepEqual(c1.updates, [before + 1, before + 2]);
    const c2 = await root.callRemote<RemoteCounter>('getCounter');
    assert.equal(c2, c1, 'the second send is the same cached copy');
    assert.equal(await root.callRemote('observerCount'), 1);
    c1.release();
    await root.callRemote('echo', null);
    assert.equal(await root.callRemote('observerCount'), 0);
  });

  it('does not grow over 100,000 calls passing references released by the peer', async () => {
    const root = conn.root();
    const start = conn.broker.exportedCount;
    let peak = 0;
    const batch = 200;
    for (let i = 0; i < 100_000; i += batch) {
      await Promise.all(
        Array.from({ length: batch }, (_, j) =>
          root.callRemote('callMeBack', referenceable({ ping: (v: number) => v }), j, true),
        ),
      );
      peak = Math.max(peak, conn.broker.exportedCount);
    }
    await root.callRemote('echo', null);
    assert.ok(peak <= start + batch, `peak exported ${peak}`);
    assert.ok(conn.broker.exportedCount <= start, `still exported ${conn.broker.exportedCount}`);
  });

  it('decrefs references the peer dropped without releasing, once they are garbage-collected', async () => {
    const root = conn.root();
    for (let i = 0; i < 900; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          root.callRemote('callMeBack', referenceable({ ping: () => j }), j),
        ),
      );
    }
    assert.ok(conn.broker.exportedCount > 100, 'not yet collected');
    for (let i = 0; i < 5 && conn.broker.exportedCount > 10; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
      await root.callRemote('echo', null);
    }
    assert.ok(conn.broker.exportedCount <= 10, `still exported ${conn.broker.exportedCount}`);
  });

  it('limits what one connection may export, as Twisted does', async () => {
    const root = conn.root();
    const held = Array.from({ length: 1100 }, () => referenceable({}));
    const results = await Promise.allSettled(held.map((r) => root.callRemote('keep', r)));
    assert.ok(results.some((r) => r.status === 'rejected'));
    assert.ok(results.filter((r) => r.status === 'fulfilled').length <= 1024);
    for (const k of calc.kept) k.release();
    calc.kept = [];
  });
});

describe('Viewable: calls learn the perspective of the caller', () => {
  it('passes the logged-in avatar to view_ methods', async () => {
    class Board extends Viewable {
      view_whoCalls(perspective: unknown) {
        return (perspective as User).name;
      }
    }
    const board = new Board();
    class User extends Avatar {
      constructor(readonly name: string) {
        super();
      }
      perspective_board() {
        return board;
      }
    }
    const portal = new Portal({ requestAvatar: (id) => ({ avatar: new User(String(id)) }) }, [
      new PasswordChecker({ alice: 'a', bob: 'b' }),
    ]);
    const server = await listen({ port: 0, portal });
    const names: unknown[] = [];
    for (const [user, pw] of [
      ['alice', 'a'],
      ['bob', 'b'],
    ]) {
      const c = await connect({ host: '127.0.0.1', port: server.port });
      const avatar = await c.login(user!, pw!);
      const view = await avatar.callRemote<RemoteReference>('board');
      names.push(await view.callRemote('whoCalls'));
      c.close();
    }
    assert.deepEqual(names, ['alice', 'bob']);
    await server.close();
  });
});

describe('login', () => {
  let server: PBServer;
  const events: string[] = [];
  class User extends Avatar {
    constructor(readonly id: unknown) {
      super();
    }
    perspective_whoami() {
      return this.id;
    }
  }
  before(async () => {
    const portal = new Portal(
      {
        requestAvatar: (id, mind) => {
          events.push(`login ${String(id)} mind=${mind instanceof RemoteReference}`);
          return { avatar: new User(id), logout: () => events.push(`logout ${String(id)}`) };
        },
      },
      [new PasswordChecker({ alice: 'wonderland' }), new AnonymousChecker()],
    );
    server = await listen({ port: 0, portal });
  });
  after(() => server.close());

  it('logs in with the right password, passes the mind, logs out on disconnect', async () => {
    const c = await connect({ host: '127.0.0.1', port: server.port });
    const avatar = await c.login('alice', 'wonderland', referenceable({ notify: () => 1 }));
    assert.equal(await avatar.callRemote('whoami'), 'alice');
    c.close();
    await c.closed;
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events.splice(0), ['login alice mind=true', 'logout alice']);
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    const failures: RemoteError[] = [];
    for (const [user, pw] of [
      ['alice', 'wrong'],
      ['mallory', 'wonderland'],
    ]) {
      const c = await connect({ host: '127.0.0.1', port: server.port });
      await assert.rejects(c.login(user!, pw!), (e: unknown) => {
        assert.ok(e instanceof RemoteError);
        failures.push(e);
        return true;
      });
      c.close();
    }
    assert.equal(failures[0]!.remoteType, 'twisted.cred.error.UnauthorizedLogin');
    assert.equal(failures[0]!.message, failures[1]!.message);
    assert.equal(failures[0]!.remoteValue, '');
    assert.deepEqual(events.splice(0), []);
  });

  it('allows anonymous login when the portal has an anonymous checker', async () => {
    const c = await connect({ host: '127.0.0.1', port: server.port });
    const avatar = await c.loginAnonymous();
    assert.deepEqual(await avatar.callRemote('whoami'), tuple());
    c.close();
  });
});

describe('disconnects', () => {
  it('rejects pending calls and notifies when the connection drops', async () => {
    const server = await listen({
      port: 0,
      root: referenceable({ hang: () => new Promise(() => {}), echo: (x: unknown) => x }),
    });
    const c = await connect({ host: '127.0.0.1', port: server.port });
    const root = c.root();
    assert.equal(await root.callRemote('echo', 1), 1);
    let notified = false;
    root.notifyOnDisconnect(() => {
      notified = true;
    });
    const pending = assert.rejects(root.callRemote('hang'), ConnectionLostError);
    await server.close();
    await pending;
    assert.ok(notified);
    await assert.rejects(root.callRemote('echo', 1), ConnectionLostError);
  });

  it('reports an unreachable server as a ConnectError', async () => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await assert.rejects(connect({ host: '127.0.0.1', port }), ConnectError);
  });

  it('reconnects with backoff after the server goes away', async () => {
    let server = await listen({ port: 0, root: referenceable({ echo: (x: unknown) => x }) });
    const port = server.port;
    const connects: number[] = [];
    const delays: number[] = [];
    const client = new ReconnectingClient({
      host: '127.0.0.1',
      port,
      initialDelayMs: 20,
      maxDelayMs: 100,
      onConnect: async (c) => {
        connects.push(Number(await c.root().callRemote('echo', connects.length)));
      },
      onRetry: (_e, d) => delays.push(d),
    });
    client.start();
    while (connects.length < 1) await new Promise((r) => setTimeout(r, 10));
    await server.close();
    await new Promise((r) => setTimeout(r, 150));
    server = await listen({ port, root: referenceable({ echo: (x: unknown) => x }) });
    while (connects.length < 2) await new Promise((r) => setTimeout(r, 10));
    client.stop();
    await server.close();
    assert.deepEqual(connects, [0, 1]);
    assert.ok(delays.length >= 2, `retried ${delays.length} times`);
    assert.ok(delays.every((d) => d <= 100));
    assert.ok(delays[1]! > delays[0]! * 1.1 || delays[1]! >= 80, `grows: ${delays.join(', ')}`);
  });
});
