// Auth and actions of the data API against a real master with a real (Lathe) worker, over
// HTTP: anonymous reads but may not act (401); a user without the role is refused (403);
// a session without its CSRF token is refused (403); with the role, stop a running build,
// rebuild it, cancel a request and pause a worker; API tokens created, used (also by a
// WebSocket subscription) and revoked mid-session; failed logins throttled; passwords in no log.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { hashPassword } from '../src/auth/password.js';
import { ApiServer } from '../src/http/server.js';
import type { Master } from '../src/master.js';
import { CANCELLED } from '../src/results.js';
import { type WorkerRuntime, withWorkers } from '../src/runtime.js';
import { createWorker, type TestWorker, waitFor, workerAvailable } from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

const PASSWORDS = { alice: 'alice-pw-Zq81', bob: 'bob-pw-Kk29', olga: 'olga-pw-Tt47' };

async function configText(): Promise<string> {
  const hash = async (user: keyof typeof PASSWORDS) => JSON.stringify(await hashPassword(PASSWORDS[user]));
  return `import { buildFactory, defineConfig, shellCommand } from '${lathe}';
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [
    {
      name: 'slow',
      workerNames: ['w1'],
      factory: buildFactory(shellCommand({ name: 'nap', command: 'echo napping; exec sleep 60' })),
    },
  ],
  www: {
    port: 8010,
    baseURL: 'https://ci.example.org/',
    auth: {
      roles: { viewer: ['read'], ops: ['read', 'workers'] },
      users: {
        alice: { password: ${await hash('alice')}, roles: ['admin'] },
        bob: { password: ${await hash('bob')}, roles: ['viewer'] },
        olga: { password: ${await hash('olga')}, roles: ['ops'] },
      },
      loginThrottle: { attempts: 3, windowSeconds: 600 },
    },
  },
});
`;
}

interface Login {
  readonly cookie: string;
  readonly csrf: string;
  readonly setCookie: string;
}

type Json = Record<string, unknown>;

describe('data API auth and actions (real master and worker, HTTP)', {
  skip: !workerAvailable('lathe'),
}, () => {
  const tmp = tempDir('lathe-api-auth-');
  const logLines: string[] = [];
  let rt: WorkerRuntime;
  let master: Master;
  let worker: TestWorker;
  let server: ApiServer;
  let origin: string;
  let base: string;

  before(async () => {
    const basedir = join(tmp.path, 'master');
    mkdirSync(basedir, { recursive: true });
    writeFileSync(join(basedir, 'master.config.ts'), await configText());
    server = new ApiServer({
      port: 0,
      host: '127.0.0.1',
      log: (line) => logLines.push(line),
      stopBuild: (id, reason) => rt.runner.stopBuild(id, reason),
    });
    rt = withWorkers(
      { basedir, name: 'api-auth', onError: () => {}, services: [server] },
      { port: 0, host: '127.0.0.1', logger: { info: () => {}, warn: () => {} } },
    );
    master = await startMaster(rt.options);
    origin = `http://127.0.0.1:${server.port}`;
    base = `${origin}/api/v2`;
    worker = createWorker('lathe', join(tmp.path, 'worker'), 'w1', 'pw-1', rt.server.port);
    worker.start();
    await waitFor(() => master.workers.get('w1')!.connected, 20_000, 'the worker to attach');
  });

  after(async () => {
    await worker?.kill();
    await master?.stop();
    tmp.cleanup();
  });

  async function login(user: keyof typeof PASSWORDS): Promise<Login> {
    const res = await fetch(`${origin}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: user, password: PASSWORDS[user] }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const setCookie = res.headers.get('set-cookie')!;
    const body = (await res.json()) as { csrfToken: string; user: string };
    assert.equal(body.user, user);
    return { cookie: setCookie.split(';')[0]!, csrf: body.csrfToken, setCookie };
  }

  /** POSTs a JSON-RPC action; `auth` is a session (with or without its CSRF token) or a bearer token. */
  async function act(
    path: string,
    method: string,
    params: Json,
    auth?: { session: Login; csrf?: boolean } | { token: string },
  ): Promise<{ status: number; body: Json }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth && 'session' in auth) {
      headers.cookie = auth.session.cookie;
      if (auth.csrf !== false) headers['x-csrf-token'] = auth.session.csrf;
    } else if (auth) headers.authorization = `Bearer ${auth.token}`;
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 7 }),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  async function get(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${base}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as Json };
  }

  async function buildOf(buildrequestid: number): Promise<Json> {
    let build: Json | undefined;
    await waitFor(
      async () => {
        const { body } = await get(`/buildrequests/${buildrequestid}/builds`);
        build = (body.builds as Json[])[0];
        return build !== undefined;
      },
      20_000,
      `a build of request ${buildrequestid}`,
    );
    return build!;
  }

  async function finished(buildid: number): Promise<Json> {
    let build: Json | undefined;
    await waitFor(
      async () => {
        build = ((await get(`/builds/${buildid}`)).body.builds as Json[])[0]!;
        return build.complete === true;
      },
      20_000,
      `build ${buildid} to finish`,
    );
    return build!;
  }

  it('anonymous reads, but an anonymous action is refused with 401 and changes nothing', async () => {
    const read = await get('/builders/slow');
    assert.equal(read.status, 200);
    const before = (await get('/buildrequests?total=true')).body.meta as { total: number };
    const forced = await act('/builders/slow', 'force', {});
    assert.equal(forced.status, 401);
    assert.deepEqual(Object.keys(forced.body).sort(), ['error', 'id', 'jsonrpc']);
    assert.equal(forced.body.id, 7);
    const afterwards = (await get('/buildrequests?total=true')).body.meta as { total: number };
    assert.equal(afterwards.total, before.total);
    const me = (await (await fetch(`${origin}/auth/me`)).json()) as Json;
    assert.deepEqual(me, { user: null, roles: [], permissions: ['read'] });
  });

  it('the session cookie is Secure (https base URL), HttpOnly and SameSite', async () => {
    const { setCookie } = await login('bob');
    assert.match(setCookie, /^lathe_session=[\w-]{43}; /);
    for (const attr of ['HttpOnly', 'SameSite=Lax', 'Secure', 'Path=/'])
      assert.ok(setCookie.includes(attr), attr);
  });

  it('a user whose roles lack the permission is refused with 403', async () => {
    const bob = await login('bob');
    const forced = await act('/builders/slow', 'force', {}, { session: bob });
    assert.equal(forced.status, 403);
    assert.match((forced.body.error as { message: string }).message, /bob may not force/);
    const paused = await act('/workers/w1', 'pause', {}, { session: bob });
    assert.equal(paused.status, 403);
    assert.equal(master.workers.get('w1')!.paused, false);
  });

  it('a session without its CSRF token is refused with 403; with it, the same request works', async () => {
    const olga = await login('olga');
    const without = await act('/workers/w1', 'pause', {}, { session: olga, csrf: false });
    assert.equal(without.status, 403);
    assert.match(JSON.stringify(without.body), /x-csrf-token/);
    assert.equal(master.workers.get('w1')!.paused, false);
    const wrong = await act('/workers/w1', 'pause', {}, { session: { ...olga, csrf: 'x'.repeat(43) } });
    assert.equal(wrong.status, 403);
    assert.equal(master.workers.get('w1')!.paused, false);

    const paused = await act('/workers/w1', 'pause', {}, { session: olga });
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    assert.deepEqual(paused.body.result, { name: 'w1', changed: true, state: 'paused', runningBuilds: 0 });
    assert.equal(master.workers.get('w1')!.paused, true);
    assert.equal(((await get('/workers/w1')).body.workers as Json[])[0]!.paused, true);
    const unpaused = await act('/workers/w1', 'unpause', {}, { session: olga });
    assert.equal(unpaused.status, 200);
    assert.equal(master.workers.get('w1')!.paused, false);
  });

  it('stops a running build, rebuilds it, and cancels the rebuild', async () => {
    const alice = await login('alice');
    const forced = await act('/builders/slow', 'force', { reason: 'api test' }, { session: alice });
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    const { buildrequestid } = forced.body.result as { buildrequestid: number };
    const build = await buildOf(buildrequestid);
    assert.equal(build.complete, false);
    const request = ((await get(`/buildrequests/${buildrequestid}`)).body.buildrequests as Json[])[0]!;
    assert.equal(request.claimed, true);

    const stopped = await act(`/builds/${build.buildid}`, 'stop', { reason: 'enough' }, { session: alice });
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.deepEqual(stopped.body.result, { buildid: build.buildid, builder: 'slow', number: build.number });
    const done = await finished(build.buildid as number);
    assert.equal(done.results, CANCELLED);
    assert.match(done.state_string as string, /enough/);
    const again = await act(`/builds/${build.buildid}`, 'stop', {}, { session: alice });
    assert.equal(again.status, 409);

    const rebuilt = await act(
      `/builders/${build.builderid}/builds/${build.number}`,
      'rebuild',
      {},
      { session: alice },
    );
    assert.equal(rebuilt.status, 200, JSON.stringify(rebuilt.body));
    const second = (rebuilt.body.result as { buildrequestid: number }).buildrequestid;
    assert.notEqual(second, buildrequestid);
    const cancelled = await act(`/buildrequests/${second}`, 'cancel', {}, { session: alice });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    await waitFor(
      async () =>
        ((await get(`/buildrequests/${second}`)).body.buildrequests as Json[])[0]!.complete === true,
      20_000,
      'the rebuild request to complete',
    );
    const rebuildRequest = ((await get(`/buildrequests/${second}`)).body.buildrequests as Json[])[0]!;
    assert.equal(rebuildRequest.results, CANCELLED);
    assert.equal(rebuildRequest.builderid, build.builderid);
  });

  it('answers JSON-RPC mistakes as Buildbot does: unknown action 501, unknown path 404', async () => {
    const alice = await login('alice');
    const unknown = await act('/workers/w1', 'explode', {}, { session: alice });
    assert.equal(unknown.status, 501);
    assert.equal((unknown.body.error as { code: number }).code, -32601);
    const missing = await act('/workers/nobody', 'pause', {}, { session: alice });
    assert.equal(missing.status, 404);
  });

  it('an API token acts without CSRF, and is refused everywhere once revoked mid-session', async () => {
    const alice = await login('alice');
    const session = { cookie: alice.cookie, 'x-csrf-token': alice.csrf, 'content-type': 'application/json' };
    const created = await fetch(`${origin}/auth/tokens`, {
      method: 'POST',
      headers: session,
      body: JSON.stringify({ name: 'ci script' }),
    });
    assert.equal(created.status, 201);
    const { id, token, roles } = (await created.json()) as { id: number; token: string; roles: string[] };
    assert.deepEqual(roles, ['admin']);
    assert.match(token, /^lathe_[\w-]{43}$/);
    const bearer = { token };

    const paused = await act('/workers/w1', 'pause', {}, bearer);
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    assert.equal(master.workers.get('w1')!.paused, true);

    // A WebSocket subscription opened with the token.
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const frames: Json[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Json));
    const closed = new Promise<number>((resolve, reject) => {
      ws.on('close', (code) => resolve(code));
      setTimeout(() => reject(new Error('the WebSocket stayed open after the revocation')), 10_000).unref();
    });
    closed.catch(() => {}); // awaited below; not an unhandled rejection should the test fail first
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ cmd: 'subscribe', topic: 'workers', id: 1 }));
    await waitFor(() => frames.some((f) => f.type === 'subscribed'), 5000, 'the subscription');

    const revoked = await fetch(`${origin}/auth/tokens/${id}`, {
      method: 'DELETE',
      headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf },
    });
    assert.equal(revoked.status, 204);
    assert.equal(await closed, 4403);

    const refused = await act('/workers/w1', 'unpause', {}, bearer);
    assert.equal(refused.status, 401);
    assert.equal(master.workers.get('w1')!.paused, true);
    assert.equal((await get('/builders', { authorization: `Bearer ${token}` })).status, 401);
    const list = (await (
      await fetch(`${origin}/auth/tokens`, { headers: { cookie: alice.cookie } })
    ).json()) as Json;
    assert.deepEqual(list.tokens, []);

    // The session still works; undo the pause.
    assert.equal((await act('/workers/w1', 'unpause', {}, { session: alice })).status, 200);
  });

  it('a token never holds roles its user lacks', async () => {
    const bob = await login('bob');
    const res = await fetch(`${origin}/auth/tokens`, {
      method: 'POST',
      headers: { cookie: bob.cookie, 'x-csrf-token': bob.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'sneaky', roles: ['admin'] }),
    });
    assert.equal(res.status, 403);
    const anonymous = await fetch(`${origin}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x' }),
    });
    assert.equal(anonymous.status, 401);
  });

  // Last: the throttle counts per client address too, and every request here comes from 127.0.0.1.
  it('throttles failed logins (then even the right password waits), and logs no password', async () => {
    const attempt = (password: string) =>
      fetch(`${origin}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password }),
      });
    for (let i = 0; i < 3; i++) assert.equal((await attempt(`wrong-guess-${i}`)).status, 401);
    const throttled = await attempt(PASSWORDS.alice);
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers.get('retry-after')) > 0);
    assert.equal((await attempt('wrong-guess-3')).status, 429);
    assert.ok(
      logLines.some((l) => l.includes('refused a login as "alice"')),
      logLines.join('\n'),
    );
    const everything = logLines.join('\n');
    for (const secret of [...Object.values(PASSWORDS), 'wrong-guess', 'lathe_'])
      assert.ok(!everything.includes(secret), `the log holds ${secret}`);
  });
});
