import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Avatar,
  ConnectError,
  connect,
  listen,
  PasswordChecker,
  type PBServer,
  Portal,
  referenceable,
} from '../src/index.js';

/** A throwaway self-signed certificate for 127.0.0.1, made with Debian's openssl. */
function selfSigned(dir: string): { key: Buffer; cert: Buffer } {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}

describe('PB over TLS', () => {
  let dir: string;
  let creds: { key: Buffer; cert: Buffer };
  let server: PBServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lathe-tls-'));
    creds = selfSigned(dir);
    class User extends Avatar {
      perspective_echo(x: unknown) {
        return x;
      }
    }
    server = await listen({
      port: 0,
      tls: creds,
      portal: new Portal({ requestAvatar: () => ({ avatar: new User() }) }, [
        new PasswordChecker({ w: 'pw' }),
      ]),
    });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in and calls over a verified TLS connection', async () => {
    const conn = await connect({ host: '127.0.0.1', port: server.port, tls: { ca: creds.cert } });
    const avatar = await conn.login('w', 'pw');
    assert.deepEqual(await avatar.callRemote('echo', { secure: true }), { secure: true });
    conn.close();
  });

  it('refuses a server whose certificate it does not trust', async () => {
    await assert.rejects(connect({ host: '127.0.0.1', port: server.port, tls: true }), ConnectError);
  });

  it('cuts a connection whose handshake never ends, but not one that logged in', async () => {
    const guarded = await listen({
      port: 0,
      tls: creds,
      portal: new Portal({ requestAvatar: () => ({ avatar: new Avatar() }) }, [
        new PasswordChecker({ w: 'pw' }),
      ]),
      logger: { warn: () => {} },
      preLogin: { loginTimeoutMs: 300 },
    });
    const silent = net.connect({ host: '127.0.0.1', port: guarded.port });
    silent.on('error', () => {});
    const conn = await connect({ host: '127.0.0.1', port: guarded.port, tls: { ca: creds.cert } });
    await conn.login('w', 'pw');
    await once(silent, 'close');
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(conn.broker.connected, 'the logged-in TLS connection was not cut');
    conn.close();
    await guarded.close();
  });

  it('does not speak PB to a plain TCP client on a TLS port', async () => {
    const plain = await listen({ port: 0, root: referenceable({ echo: (x: unknown) => x }) });
    await assert.rejects(
      connect({ host: '127.0.0.1', port: plain.port, tls: { ca: creds.cert }, timeoutMs: 3000 }),
      ConnectError,
    );
    await plain.close();
  });
});
