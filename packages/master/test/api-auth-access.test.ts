// Who may read: `www.auth` as the config check sees it, a data API that refuses anonymous
// readers (REST, SSE, WebSocket and badges), realtime connections that lose their reader's
// permission (logout, a role taken away), and `lathe hash-password`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { DataApi } from '../src/api/data-api.js';
import { InProcessQueue } from '../src/api/mq/in-process.js';
import { hashPassword, verifyPassword } from '../src/auth/password.js';
import { DEFAULT_AUTH, type ResolvedAuth, resolveWwwAuth } from '../src/config/www-auth.js';
import { buildApiApp } from '../src/http/app.js';
import { seedApiData } from './api-fixtures.js';
import { MAIN } from './cli-helpers.js';
import { openData, type TestData, tempDir } from './helpers.js';

describe('www.auth in the config', () => {
  function problems(raw: unknown): string[] {
    const out: string[] = [];
    resolveWwwAuth(raw, (key, message) => out.push(`${key}: ${message}`));
    return out;
  }

  it('refuses a password that is not a scrypt hash, without repeating it', () => {
    const found = problems({ users: { alice: { password: 'hunter2-plain', roles: ['admin'] } } });
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^www\.auth\.users\.alice\.password: must be a scrypt hash/);
    assert.ok(!found[0]!.includes('hunter2'));
  });

  it('refuses unknown roles, permissions and settings', async () => {
    const hash = await hashPassword('pw');
    assert.deepEqual(problems({ users: { bob: { password: hash, roles: ['nobody'] } } }), [
      'www.auth.users.bob.roles: no role named "nobody" (roles: admin)',
    ]);
    assert.match(
      problems({ roles: { dev: ['fly'] } })[0]!,
      /^www\.auth\.roles\.dev: must be a list of permissions/,
    );
    assert.match(problems({ anonymous: 'read' })[0]!, /^www\.auth\.anonymous:/);
    assert.match(problems({ cookies: true })[0]!, /^www\.auth\.cookies: unknown setting/);
    assert.deepEqual(problems({ anonymous: [], users: { bob: { password: hash, roles: ['admin'] } } }), []);
  });
});

describe('lathe hash-password', () => {
  function run(args: string[], input: string): Promise<{ code: number | null; stdout: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [MAIN, 'hash-password', ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
      });
      child.on('error', reject).on('close', (code) => resolve({ code, stdout }));
      child.stdin.end(input);
    });
  }

  it('hashes the first line of stdin, and refuses a password given as an argument', async () => {
    const { code, stdout } = await run([], 'correct horse\n');
    assert.equal(code, 0);
    const hash = stdout.trim();
    assert.match(hash, /^scrypt\$16384\$8\$1\$/);
    assert.equal(await verifyPassword('correct horse', hash), true);
    assert.equal(await verifyPassword('correct horse\n', hash), false);
    assert.equal((await run(['correct horse'], '')).code, 2);
  });
});

describe('data API read permission (real SQLite, HTTP, SSE, WebSocket)', () => {
  const dir = tempDir('lathe-api-access-');
  let t: TestData;
  let app: FastifyInstance;
  let origin: string;
  let auth: ResolvedAuth;

  before(async () => {
    t = await openData(join(dir.path, 'access.sqlite'));
    await seedApiData(t.data);
    const hash = await hashPassword('viewer-pw');
    auth = {
      ...DEFAULT_AUTH,
      anonymous: new Set(),
      roles: new Map([...DEFAULT_AUTH.roles, ['viewer', new Set(['read'] as const)]]),
      users: new Map([['vera', { passwordHash: hash, roles: ['viewer'] }]]),
    };
    app = await buildApiApp({ api: new DataApi(t.data), queue: new InProcessQueue(), auth: () => auth });
    await app.listen({ port: 0, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });

  after(async () => {
    await app.close();
    await t.close();
    dir.cleanup();
  });

  async function login(): Promise<{ cookie: string; csrf: string }> {
    const res = await fetch(`${origin}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'vera', password: 'viewer-pw' }),
    });
    assert.equal(res.status, 200);
    const { csrfToken } = (await res.json()) as { csrfToken: string };
    return { cookie: res.headers.get('set-cookie')!.split(';')[0]!, csrf: csrfToken };
  }

  function openWs(headers: Record<string, string>): Promise<WebSocket> {
    const ws = new WebSocket(`${origin.replace('http', 'ws')}/api/v2/ws`, { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  function closeCode(ws: WebSocket): Promise<number> {
    return new Promise((resolve, reject) => {
      ws.once('close', (code) => resolve(code));
      setTimeout(() => reject(new Error('the WebSocket stayed open')), 10_000).unref();
    });
  }

  it('keeps a session across a restart of the server (stored by its hash), until logout', async () => {
    const { cookie, csrf } = await login();
    const sessionId = cookie.split('=')[1]!;
    const rows = await t.data.db.kysely.selectFrom('sessions').selectAll().execute();
    assert.ok(rows.length > 0);
    assert.ok(
      rows.every((r) => r.id_hash !== sessionId && r.id_hash.length === 64),
      'only the hash is stored',
    );
    // Another app on the same database: as after a master restart, or on a second master.
    const again = await buildApiApp({
      api: new DataApi(t.data),
      queue: new InProcessQueue(),
      auth: () => auth,
    });
    await again.listen({ port: 0, host: '127.0.0.1' });
    const other = `http://127.0.0.1:${(again.server.address() as { port: number }).port}`;
    try {
      const me = async (c: string) =>
        (await (await fetch(`${other}/auth/me`, { headers: { cookie: c } })).json()) as {
          user: string | null;
          csrfToken?: string;
        };
      assert.deepEqual(await me(cookie).then((m) => [m.user, m.csrfToken]), ['vera', csrf]);
      assert.equal((await me('lathe_session=not-a-session')).user, null);
      const out = await fetch(`${other}/auth/logout`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(out.status, 200);
      assert.equal((await me(cookie)).user, null);
      assert.equal((await fetch(`${origin}/api/v2/builders`, { headers: { cookie } })).status, 401);
    } finally {
      await again.close();
    }
  });

  it('refuses anonymous readers on REST, SSE and WebSocket when anonymous may not read', async () => {
    assert.equal((await fetch(`${origin}/api/v2/builders`)).status, 401);
    assert.equal((await fetch(`${origin}/api/v2/openapi.json`)).status, 401);
    assert.equal((await fetch(`${origin}/api/v2/sse?topic=builds`)).status, 401);
    await assert.rejects(openWs({}), /refused: 401/);
    assert.equal(
      (await fetch(`${origin}/api/v2/builders`, { headers: { authorization: 'Bearer nope' } })).status,
      401,
    );
    assert.equal((await fetch(`${origin}/badges/alpha.svg`)).status, 401);
    const { cookie } = await login();
    assert.equal((await fetch(`${origin}/api/v2/builders`, { headers: { cookie } })).status, 200);
    assert.equal((await fetch(`${origin}/badges/alpha.svg`, { headers: { cookie } })).status, 200);
  });

  it('logging out closes the session’s SSE stream and WebSocket', async () => {
    const { cookie, csrf } = await login();
    const ws = await openWs({ cookie });
    const wsClosed = closeCode(ws);
    const sse = await fetch(`${origin}/api/v2/sse?topic=builds`, { headers: { cookie } });
    assert.equal(sse.status, 200);
    const reader = sse.body!.getReader();
    await reader.read(); // the position comment: the stream is open
    const out = await fetch(`${origin}/auth/logout`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    assert.equal(out.status, 200);
    assert.equal(await wsClosed, 4403);
    for (;;) if ((await reader.read()).done) break;
    assert.equal((await fetch(`${origin}/api/v2/builders`, { headers: { cookie } })).status, 401);
  });

  it('a WebSocket whose user lost the read permission may not subscribe again', async () => {
    const { cookie } = await login();
    const ws = await openWs({ cookie });
    const frames: Record<string, unknown>[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Record<string, unknown>));
    const closed = closeCode(ws);
    ws.send(JSON.stringify({ cmd: 'subscribe', topic: 'builds', id: 1 }));
    while (!frames.some((f) => f.type === 'subscribed')) await new Promise((r) => setTimeout(r, 20));
    const before = auth;
    // A reconfig that takes the role's read permission away.
    auth = { ...auth, roles: new Map([...auth.roles, ['viewer', new Set()]]) };
    try {
      ws.send(JSON.stringify({ cmd: 'subscribe', topic: 'steps', id: 2 }));
      assert.equal(await closed, 4403);
      assert.ok(frames.some((f) => f.type === 'error' && f.id === 2));
      assert.ok(!frames.some((f) => f.type === 'subscribed' && f.id === 2));
    } finally {
      auth = before;
    }
  });
});
