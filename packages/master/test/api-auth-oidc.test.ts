// OIDC login against a real OpenID provider (npm `oidc-provider`, its development login and
// consent pages) started by the test: the whole browser round trip ends in a session with
// the roles the provider's claim and the config give; a login state is single-use and bound
// to the browser; a code from another login fails its PKCE check. A hostile provider's
// forged ID tokens are refused.
import assert from 'node:assert/strict';
import { sign as cryptoSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import Provider from 'oidc-provider';
import { DataApi } from '../src/api/data-api.js';
import { InProcessQueue } from '../src/api/mq/in-process.js';
import { DEFAULT_AUTH, type ResolvedAuth } from '../src/config/www-auth.js';
import { buildApiApp } from '../src/http/app.js';
import { openData, type TestData, tempDir } from './helpers.js';

/** A browser's cookies for one origin. */
class CookieJar {
  readonly #cookies = new Map<string, string>();
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const value = pair!.slice(eq + 1);
      if (value === '' || /max-age=0/i.test(c)) this.#cookies.delete(pair!.slice(0, eq));
      else this.#cookies.set(pair!.slice(0, eq), value);
    }
  }
  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }
}

async function go(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = { ...(init.headers as Record<string, string> | undefined), cookie: jar.header() };
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.take(res);
  return res;
}

describe('OIDC login against a real OpenID provider (oidc-provider)', () => {
  const dir = tempDir('lathe-api-oidc-');
  let t: TestData;
  let app: FastifyInstance;
  let providerServer: Server;
  let origin: string;
  let issuer: string;
  let auth: ResolvedAuth;
  const logLines: string[] = [];

  before(async () => {
    t = await openData(join(dir.path, 'oidc.sqlite'));
    auth = DEFAULT_AUTH; // until the provider, which needs the master's address, runs
    app = await buildApiApp({
      api: new DataApi(t.data),
      queue: new InProcessQueue(),
      auth: () => auth,
      baseURL: () => `${origin}/`,
      log: (line) => logLines.push(line),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

    providerServer = createServer();
    await new Promise<void>((resolve) => providerServer.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(providerServer.address() as { port: number }).port}`;
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'lathe',
          client_secret: 'lathe-client-secret',
          redirect_uris: [`${origin}/auth/oidc/callback`],
        },
      ],
      findAccount: (_ctx: unknown, id: string) => ({
        accountId: id,
        claims: () => ({ sub: id, preferred_username: id, groups: ['dev', 'no-such-role'] }),
      }),
      claims: { openid: ['sub'], profile: ['preferred_username', 'groups'] },
      pkce: { required: () => true },
    });
    providerServer.on('request', provider.callback());

    auth = {
      ...DEFAULT_AUTH,
      roles: new Map([
        ...DEFAULT_AUTH.roles,
        ['dev', new Set(['read', 'force', 'stop'] as const)],
        ['viewer', new Set(['read'] as const)],
      ]),
      oidc: {
        issuer,
        clientId: 'lathe',
        clientSecret: 'lathe-client-secret',
        scope: 'openid profile',
        usernameClaim: 'preferred_username',
        rolesClaim: 'groups',
        defaultRoles: ['viewer'],
      },
    };
  });

  after(async () => {
    await app.close();
    providerServer.closeAllConnections();
    await new Promise((resolve) => providerServer.close(resolve));
    await t.close();
    dir.cleanup();
  });

  /** Starts a login at the master; the provider URL it redirects to. */
  async function startLogin(browser: CookieJar): Promise<URL> {
    const res = await go(browser, `${origin}/auth/oidc/login`);
    assert.equal(res.status, 302);
    return new URL(res.headers.get('location')!);
  }

  /** Logs `user` in at the provider (its development login and consent forms); the callback URL it sends back. */
  async function atProvider(providerJar: CookieJar, start: URL, user: string): Promise<URL> {
    let res = await go(providerJar, start.href);
    for (let i = 0; i < 10; i++) {
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, issuer);
        if (next.origin === origin) return next;
        res = await go(providerJar, next.href);
        continue;
      }
      const html = await res.text();
      assert.equal(res.status, 200, `the provider answered ${res.status}: ${html}`);
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      assert.ok(action, 'a form at the provider');
      const fields = [...html.matchAll(/<input[^>]*>/g)]
        .map((m) => [/name="([^"]+)"/.exec(m[0])?.[1], /value="([^"]*)"/.exec(m[0])?.[1] ?? ''] as const)
        .filter((f): f is readonly [string, string] => f[0] !== undefined)
        .map(([name, value]): [string, string] => [
          name,
          name === 'login' ? user : name === 'password' ? 'any' : value,
        ]);
      res = await go(providerJar, new URL(action, issuer).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
      });
    }
    throw new Error('the provider never sent the browser back');
  }

  it('a login round trip ends in a session with the provider’s and the default roles', async () => {
    const browser = new CookieJar();
    const start = await startLogin(browser);
    assert.equal(start.origin, issuer);
    assert.equal(start.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(browser.get('lathe_oidc_state'));
    const callback = await atProvider(new CookieJar(), start, 'carol');
    assert.equal(callback.pathname, '/auth/oidc/callback');
    assert.ok(callback.searchParams.get('code'));

    const back = await go(browser, callback.href);
    assert.equal(back.status, 302, await back.clone().text());
    assert.equal(back.headers.get('location'), `${origin}/`);
    assert.ok(browser.get('lathe_session'));
    assert.equal(browser.get('lathe_oidc_state'), undefined, 'the state cookie is cleared');
    const me = (await (await go(browser, `${origin}/auth/me`)).json()) as Record<string, unknown>;
    assert.equal(me.user, 'carol');
    assert.deepEqual(me.roles, ['viewer', 'dev']);
    assert.deepEqual([...(me.permissions as string[])].sort(), ['force', 'read', 'stop']);
    assert.equal(typeof me.csrfToken, 'string');
    assert.ok(logLines.some((l) => l.includes('carol logged in with OIDC')));
    assert.ok(!logLines.join('\n').includes('lathe-client-secret'));

    // The same answer again: the state was used up.
    const replay = await go(browser, callback.href);
    assert.equal(replay.status, 400);
  });

  it('refuses a callback from another browser, and a code from another login (PKCE)', async () => {
    const alice = new CookieJar();
    const callback = await atProvider(new CookieJar(), await startLogin(alice), 'carol');
    const mallory = new CookieJar();
    await startLogin(mallory);
    // Mallory's browser, Alice's answer: the state is not Mallory's.
    assert.equal((await go(mallory, callback.href)).status, 400);

    // Mallory's own state with the code of another login: the provider checks the verifier.
    const other = await atProvider(new CookieJar(), await startLogin(new CookieJar()), 'carol');
    const own = new CookieJar();
    const ownStart = await startLogin(own);
    const spliced = new URL(other.href);
    spliced.searchParams.set('state', ownStart.searchParams.get('state')!);
    const res = await go(own, spliced.href);
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { error: string }).error, /refused/);
    assert.equal(own.get('lathe_session'), undefined);
  });
});

// A provider that lies: its ID tokens are forged in one way or another. The master must
// refuse each login, whatever the rest of the answer says.
describe('OIDC login refuses forged ID tokens (a hostile provider)', () => {
  const dir = tempDir('lathe-api-oidc-hostile-');
  let t: TestData;
  let app: FastifyInstance;
  let hostile: Server;
  let origin: string;
  let issuer: string;
  let auth: ResolvedAuth;
  const trusted = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  /** What the next ID token gets wrong. */
  let forge: (claims: Record<string, unknown>) => {
    claims: Record<string, unknown>;
    alg?: string;
    key?: KeyObject;
  } = (claims) => ({ claims });
  let nonce = '';

  function sign(claims: Record<string, unknown>, alg: string, key: KeyObject): string {
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${enc({ alg, kid: 'k1', typ: 'JWT' })}.${enc(claims)}`;
    const signature =
      alg === 'none' ? '' : cryptoSign('sha256', Buffer.from(input), key).toString('base64url');
    return `${input}.${signature}`;
  }

  before(async () => {
    t = await openData(join(dir.path, 'hostile.sqlite'));
    auth = DEFAULT_AUTH;
    app = await buildApiApp({
      api: new DataApi(t.data),
      queue: new InProcessQueue(),
      auth: () => auth,
      baseURL: () => `${origin}/`,
      log: () => {},
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    hostile = createServer((req, res) => {
      const url = new URL(req.url!, issuer);
      const send = (body: unknown) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (url.pathname === '/.well-known/openid-configuration')
        return send({
          issuer,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
        });
      if (url.pathname === '/jwks')
        return send({
          keys: [{ ...trusted.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' }],
        });
      if (url.pathname === '/token') {
        const now = Math.floor(Date.now() / 1000);
        const honest = {
          iss: issuer,
          aud: 'lathe',
          sub: 'u1',
          preferred_username: 'eve',
          nonce,
          iat: now,
          exp: now + 300,
        };
        const forged = forge(honest);
        return send({
          id_token: sign(forged.claims, forged.alg ?? 'RS256', forged.key ?? trusted.privateKey),
        });
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(hostile.address() as { port: number }).port}`;
    auth = {
      ...DEFAULT_AUTH,
      oidc: {
        issuer,
        clientId: 'lathe',
        clientSecret: 's',
        scope: 'openid',
        usernameClaim: 'preferred_username',
        defaultRoles: ['admin'],
      },
    };
  });

  after(async () => {
    await app.close();
    await new Promise((resolve) => hostile.close(resolve));
    await t.close();
    dir.cleanup();
  });

  /** A login whose provider answer is the forged token; the callback's status and body. */
  async function loginWith(
    forgery: typeof forge,
  ): Promise<{ status: number; error: string; session: boolean }> {
    forge = forgery;
    const browser = new CookieJar();
    const start = new URL((await go(browser, `${origin}/auth/oidc/login`)).headers.get('location')!);
    nonce = start.searchParams.get('nonce')!;
    const res = await go(
      browser,
      `${origin}/auth/oidc/callback?code=c&state=${start.searchParams.get('state')}`,
    );
    const text = await res.text();
    return {
      status: res.status,
      error: text && (JSON.parse(text) as { error: string }).error,
      session: browser.get('lathe_session') !== undefined,
    };
  }

  it('accepts the honest token (so the refusals below are the forgeries’ doing)', async () => {
    const honest = await loginWith((claims) => ({ claims }));
    assert.equal(honest.status, 302);
    assert.ok(honest.session);
  });

  for (const [what, forgery, reason] of [
    [
      'signed by a key the provider does not publish',
      (c: Record<string, unknown>) => ({ claims: c, key: stranger.privateKey }),
      /signature/,
    ],
    ['unsigned (alg none)', (c: Record<string, unknown>) => ({ claims: c, alg: 'none' }), /algorithm/],
    [
      'for another login (nonce)',
      (c: Record<string, unknown>) => ({ claims: { ...c, nonce: 'replayed' } }),
      /nonce/,
    ],
    [
      'for another client',
      (c: Record<string, unknown>) => ({ claims: { ...c, aud: 'other-app' } }),
      /another client/,
    ],
    [
      'from another issuer',
      (c: Record<string, unknown>) => ({ claims: { ...c, iss: 'https://evil.example' } }),
      /another issuer/,
    ],
    ['expired', (c: Record<string, unknown>) => ({ claims: { ...c, exp: 1_000_000 } }), /expired/],
  ] as const)
    it(`refuses an ID token ${what}`, async () => {
      const refused = await loginWith(forgery);
      assert.equal(refused.status, 401);
      assert.match(refused.error, reason);
      assert.equal(refused.session, false);
    });
});
