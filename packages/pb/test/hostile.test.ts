/**
 * Hostile input: random and mutated frames thrown at a live server. The process
 * must survive, memory must stay bounded, each offending connection must be dropped,
 * and an honest client on another connection must keep working throughout.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it } from 'node:test';
import {
  AnonymousChecker,
  Avatar,
  connect,
  listen,
  PasswordChecker,
  Portal,
  referenceable,
} from '../src/index.js';
import { loadTrace } from './fixtures.js';

/** A small deterministic PRNG, so a failure can be replayed from its seed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** Sends `bytes` on a fresh connection; resolves with whether the server closed it. */
async function throwAt(port: number, bytes: Buffer, waitMs = 300): Promise<boolean> {
  const sock = net.connect({ host: '127.0.0.1', port });
  sock.on('error', () => {});
  sock.on('data', () => {});
  await once(sock, 'connect');
  sock.write(bytes);
  const closed = await Promise.race([
    once(sock, 'close').then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), waitMs)),
  ]);
  sock.destroy();
  return closed;
}

function mutate(base: Buffer, rand: () => number): Buffer {
  const b = Buffer.from(base);
  const kind = Math.floor(rand() * 4);
  const n = 1 + Math.floor(rand() * 8);
  if (kind === 0) {
    for (let i = 0; i < n; i++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    return b;
  }
  if (kind === 1) return b.subarray(0, Math.floor(rand() * b.length));
  if (kind === 2) {
    const at = Math.floor(rand() * b.length);
    return Buffer.concat([
      b.subarray(0, at),
      Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256))),
      b.subarray(at),
    ]);
  }
  // Splice a chunk of the stream somewhere else.
  const from = Math.floor(rand() * b.length);
  const len = Math.floor(rand() * 64);
  const to = Math.floor(rand() * b.length);
  return Buffer.concat([b.subarray(0, to), b.subarray(from, from + len), b.subarray(to)]);
}

describe('hostile input', () => {
  it('survives random and mutated frames, dropping only the offending connections', async () => {
    class User extends Avatar {
      perspective_echo(x: unknown) {
        return x;
      }
    }
    const portal = new Portal({ requestAvatar: () => ({ avatar: new User() }) }, [
      new PasswordChecker({ alice: 'wonderland' }),
      new AnonymousChecker(),
    ]);
    const logged: string[] = [];
    const record = { warn: (m: string) => logged.push(m) };
    // Every warning, not the rate-limited few: each dropped connection must be explained.
    const server = await listen({ port: 0, portal, logger: record, preLogin: { logger: record } });
    const honest = await connect({ host: '127.0.0.1', port: server.port });
    const avatar = await honest.login('alice', 'wonderland');

    const trace = loadTrace('pb-login');
    const valid = trace.bytes.c2s;
    const seed = Number(process.env.LATHE_FUZZ_SEED ?? 20261125);
    const rand = rng(seed);
    const rounds = Number(process.env.LATHE_FUZZ_ROUNDS ?? 300);
    const heapBefore = process.memoryUsage().heapUsed;
    let honestCalls = 0;
    for (let i = 0; i < rounds; i++) {
      const bytes =
        i % 3 === 0
          ? Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 512) }, () => Math.floor(rand() * 256)))
          : mutate(valid, rand);
      // Several at once, as a real flood would come.
      await Promise.all([throwAt(server.port, bytes, 30), throwAt(server.port, mutate(valid, rand), 30)]);
      if (i % 10 === 0) {
        assert.deepEqual(await avatar.callRemote('echo', { round: i, seed }), { round: i, seed });
        honestCalls++;
      }
    }
    assert.ok(honestCalls >= rounds / 10);
    // Wait for the server to finish with the hostile sockets.
    for (let i = 0; i < 50 && server.brokers.size > 1; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(server.brokers.size, 1, 'only the honest connection is left');
    assert.ok(logged.length > rounds / 2, `protocol errors were logged (${logged.length})`);
    assert.ok(logged.every((m) => m.startsWith('pb: protocol error, dropping connection:')));
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 64 * 1024 * 1024, `heap grew by ${grown} bytes`);
    honest.close();
    await server.close();
  });

  it('drops a connection at once for each fatal condition', async () => {
    const logged: string[] = [];
    const server = await listen({
      port: 0,
      root: referenceable({ echo: (x: unknown) => x }),
      logger: { warn: (m) => logged.push(m) },
    });
    const hs = Buffer.from('028270620280138706 81'.replace(/ /g, ''), 'hex'); // 'pb', ['version', 6]
    const fatal: Record<string, string> = {
      'unknown type byte': '0088',
      'header over 64 bytes': '01'.repeat(65),
      'oversized string': '7f7f7f7f0782',
      'oversized list': '01002880',
      'unknown vocab index': '2087',
      'non-list top-level element': '0581',
      'unknown command': '01800382616263',
      'wrong field count': '02801a8701 81',
      'wrong protocol version': '02801387 0781',
      'answer for an unknown request': '03801b87 0981 0181',
      'decref for an unknown object': '02801d87 6381',
      'method name not bytes': '07801a870181 04 82726f6f74 0181 0181 01800b87 01800587',
    };
    for (const [what, hexBytes] of Object.entries(fatal)) {
      const closed = await throwAt(
        server.port,
        Buffer.concat([hs, Buffer.from(hexBytes.replace(/ /g, ''), 'hex')]),
        2000,
      );
      assert.ok(closed, `${what}: the server closed the connection`);
      assert.match(logged.at(-1) ?? '', /protocol error/, `${what}: logged`);
      logged.length = 0;
    }
    const c = await connect({ host: '127.0.0.1', port: server.port });
    assert.equal(await c.root().callRemote('echo', 'still here'), 'still here');
    c.close();
    await server.close();
  });

  it('does not let a slow-drip element exceed the message size limit', async () => {
    const logged: string[] = [];
    const server = await listen({
      port: 0,
      root: referenceable({}),
      limits: { maxMessageBytes: 64 * 1024 },
      logger: { warn: (m) => logged.push(m) },
    });
    const hs = Buffer.from('028270620280138706 81'.replace(/ /g, ''), 'hex');
    // A list announcing 600k items, then endless small strings: never completes.
    const sock = net.connect({ host: '127.0.0.1', port: server.port });
    sock.on('error', () => {});
    sock.resume(); // read (and discard) so the server's close reaches us
    await once(sock, 'connect');
    sock.write(Buffer.concat([hs, Buffer.from('00002480', 'hex')]));
    const item = Buffer.concat([Buffer.from('6482', 'hex'), Buffer.alloc(100, 0x41)]);
    let closed = false;
    sock.on('close', () => {
      closed = true;
    });
    for (let i = 0; i < 2000 && !closed; i++) {
      sock.write(item);
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(closed, 'the server cut the connection at the limit');
    assert.match(logged.join('\n'), /message limit/);
    await server.close();
  });
});
