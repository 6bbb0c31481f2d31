/**
 * Connections that have not logged in, on a server with a portal: what one may hold
 * (a few KiB, a few calls), how long it may wait, how many there may be (in all and per
 * source address, the oldest making room), and how much they may write into the log.
 * A client that logs in gets the full limits, even from a flooding address.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import {
  Avatar,
  connect,
  type ListenOptions,
  listen,
  PasswordChecker,
  type PBServer,
  Portal,
  RateLimitedLogger,
  sourceOf,
} from '../src/index.js';

class User extends Avatar {
  perspective_echo(x: unknown) {
    return x;
  }
}

const portal = new Portal({ requestAvatar: () => ({ avatar: new User() }) }, [
  new PasswordChecker({ alice: 'wonderland' }),
]);

/** 'pb' dialect, ['version', 6]: what a client sends first. */
const HANDSHAKE = Buffer.from('0282706202801387068' + '1', 'hex');

const servers: PBServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function serve(
  options: Omit<ListenOptions, 'portal'> = {},
): Promise<{ server: PBServer; log: string[] }> {
  const log: string[] = [];
  const server = await listen({ port: 0, portal, logger: { warn: (m) => log.push(m) }, ...options });
  servers.push(server);
  return { server, log };
}

interface RawPeer {
  readonly socket: net.Socket;
  closed: boolean;
}

/** A raw connection from `localAddress` (any 127.x.y.z is this machine). */
async function rawPeer(port: number, localAddress = '127.0.0.1'): Promise<RawPeer> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  const peer = { socket, closed: false };
  socket.on('error', () => {});
  socket.resume();
  socket.on('close', () => {
    peer.closed = true;
  });
  await once(socket, 'connect');
  return peer;
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('before login', () => {
  it('holds at most a few KiB of one element, and lifts the limit after login', async () => {
    const { server, log } = await serve();
    const peer = await rawPeer(server.port);
    // A list announcing 200 items, then 100-byte strings: over 4 KiB before it completes.
    peer.socket.write(Buffer.concat([HANDSHAKE, Buffer.from('480180', 'hex')]));
    for (let i = 0; i < 64 && !peer.closed; i++) {
      peer.socket.write(Buffer.concat([Buffer.from('6482', 'hex'), Buffer.alloc(100, 0x41)]));
    }
    await until(() => peer.closed, 'the server to cut the connection');
    assert.match(log.join('\n'), /element exceeds the 4096-byte message limit/);

    const client = await connect({ host: '127.0.0.1', port: server.port });
    const avatar = await client.login('alice', 'wonderland');
    const big = 'x'.repeat(200 * 1024);
    assert.equal(await avatar.callRemote('echo', big), big, 'the full limits apply after login');
    client.close();
  });

  it('cuts a connection that has not logged in within the timeout, but not one that has', async () => {
    const { server, log } = await serve({ preLogin: { loginTimeoutMs: 300 } });
    const idle = await rawPeer(server.port);
    idle.socket.write(HANDSHAKE);
    const client = await connect({ host: '127.0.0.1', port: server.port });
    const avatar = await client.login('alice', 'wonderland');
    await until(() => idle.closed, 'the idle connection to be cut');
    assert.match(log.join('\n'), /did not log in within 300 ms/);
    await pause(400);
    assert.equal(await avatar.callRemote('echo', 'still here'), 'still here');
    client.close();
  });

  it('refuses more calls than a login needs', async () => {
    const { server, log } = await serve({ preLogin: { maxCalls: 4 } });
    const client = await connect({ host: '127.0.0.1', port: server.port });
    for (let i = 0; i < 4; i++) await client.root().callRemote('login', Buffer.from('alice'));
    await assert.rejects(client.root().callRemote('login', Buffer.from('alice')));
    assert.match(log.join('\n'), /too many calls before login/);
  });

  it('caps connections per source and in all, cutting the oldest; a real client still logs in', async () => {
    const { server, log } = await serve({ preLogin: { maxConnectionsPerSource: 4, maxConnections: 6 } });
    const flood: RawPeer[] = [];
    for (let i = 0; i < 10; i++) flood.push(await rawPeer(server.port, '127.0.0.2'));
    await until(() => flood.filter((p) => p.closed).length === 6, 'the six oldest to be cut');
    assert.deepEqual(
      flood.map((p) => p.closed),
      [true, true, true, true, true, true, false, false, false, false],
      'the oldest went first',
    );
    const other: RawPeer[] = [];
    for (let i = 0; i < 3; i++) other.push(await rawPeer(server.port, '127.0.0.3'));
    // Over the total of 6: the source holding the most (127.0.0.2, 4) gives up its oldest.
    await until(
      () => flood.filter((p) => p.closed).length === 7,
      'the total cap to cut from the largest source',
    );
    assert.equal(flood[6]!.closed, true);
    assert.ok(other.every((p) => !p.closed));
    assert.match(
      log.join('\n'),
      /4 connections from 127\.0\.0\.2 have not logged in; disconnecting the oldest/,
    );

    // A client from the flooding address logs in, and stays once it has.
    const client = await connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.2' });
    const avatar = await client.login('alice', 'wonderland');
    // Ten more from its address would have cut it, were it still counted.
    for (let i = 0; i < 10; i++) flood.push(await rawPeer(server.port, '127.0.0.2'));
    await pause(100);
    assert.ok(flood.filter((p) => !p.closed).length <= 4, 'the newcomers displaced the flood');
    assert.equal(await avatar.callRemote('echo', 'logged in'), 'logged in');
    client.close();
  });

  it('rate-limits the warnings unauthenticated peers cause', async () => {
    const { server, log } = await serve();
    for (let i = 0; i < 40; i++) {
      const peer = await rawPeer(server.port);
      peer.socket.write(Buffer.from('0088', 'hex')); // an invalid type byte
      await until(() => peer.closed, 'the malformed connection to be dropped');
    }
    assert.equal(log.length, 20, 'at most 20 a minute by default');

    const lines: string[] = [];
    const limited = new RateLimitedLogger(
      { warn: (m) => lines.push(m) },
      { maxPerWindow: 3, windowMs: 200, prefix: 'x: ' },
    );
    for (let i = 0; i < 10; i++) limited.warn(`w${i}`);
    assert.deepEqual(lines, ['w0', 'w1', 'w2']);
    await until(() => lines.length === 4, 'the summary line');
    assert.equal(lines[3], 'x: 7 more warnings suppressed (at most 3 per 0.2 s)');
    limited.warn('next window');
    assert.equal(lines[4], 'next window');
  });

  it('counts IPv6 peers by /64 and IPv4-mapped ones by their IPv4 address', () => {
    assert.equal(sourceOf('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(sourceOf('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(sourceOf('::1'), '0:0:0:0::/64');
    assert.equal(sourceOf('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(sourceOf('10.1.2.3'), '10.1.2.3');
  });
});
