// The web UI's login with OpenID Connect, in a real browser (Debian's chromium) against a
// real master and worker and a real OpenID provider (npm `oidc-provider`, its development
// login and consent pages) started by the test: "Sign in with …" appears because the
// master says it offers OIDC, the round trip through the provider ends on the page it
// began on with the role's buttons, and a user whose roles lack `force` gets no button
// while the API refuses them. The implicit force scheduler's form takes free-form
// properties (the server's refusals beside their rows).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Provider from 'oidc-provider';
import type { Browser, Page } from 'playwright-core';
import { hashPassword } from '../src/auth/password.js';
import { pageUnderBase } from '../src/http/oidc.js';
import type { Master } from '../src/master.js';
import { waitForRequest } from '../src/process/control.js';
import { tempDir } from './helpers.js';
import {
  browserTestsSkip,
  freePort,
  latheIndexUrl,
  launchBrowser,
  logIn,
  openPage,
  SHOTS,
  startWwwMaster,
  type WwwMaster,
} from './www-browser.js';

const configText = (port: number, issuer: string, release: string, alicePw: string) => `
import { buildFactory, defineConfig, shellCommand, trigger, triggerableScheduler } from '${latheIndexUrl}';
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  www: {
    port: ${port},
    baseURL: 'http://127.0.0.1:${port}/',
    auth: {
      roles: { dev: ['read', 'force', 'stop', 'rebuild'], viewer: ['read'] },
      users: { alice: { password: ${JSON.stringify(alicePw)}, roles: ['dev'] } },
      oidc: {
        issuer: ${JSON.stringify(issuer)},
        name: 'Test IdP',
        clientId: 'lathe',
        clientSecret: 'lathe-client-secret',
        scope: 'openid profile',
        rolesClaim: 'groups',
        defaultRoles: ['viewer'],
      },
    },
  },
  builders: [
    { name: 'plain', tags: ['demo'], workerNames: ['w1'], factory: buildFactory(shellCommand({ command: 'echo plain' })) },
    {
      name: 'marked',
      tags: ['demo'],
      workerNames: ['w1'],
      factory: buildFactory(shellCommand({
        name: 'sections',
        command: 'echo before; echo "--- Install"; seq -f "install %.0f" 1 20; echo "+++ Run tests"; seq -f "running test %.0f" 1 5; echo "--- Cleanup"; seq -f "cleanup %.0f" 1 10',
      })),
    },
    {
      name: 'parent',
      tags: ['demo'],
      workerNames: ['w1'],
      factory: buildFactory(trigger({ schedulerNames: ['child-trig'], waitForFinish: true })),
    },
    {
      name: 'child',
      workerNames: ['w1'],
      // Runs until the test releases it, so the parent's page shows it running, then done.
      factory: buildFactory(shellCommand({ command: 'while [ ! -e "$RELEASE" ]; do sleep 0.1; done', env: { RELEASE: ${JSON.stringify(release)} } })),
    },
  ],
  // No force scheduler: every builder gets the implicit one, which takes any property.
  schedulers: [triggerableScheduler({ name: 'child-trig', builderNames: ['child'] })],
});
`;

/** Who the provider's accounts are: dana is in the `dev` group, anyone else in none. */
function startProvider(server: Server, issuer: string, callback: string): void {
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'lathe', client_secret: 'lathe-client-secret', redirect_uris: [callback] }],
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => ({ sub: id, preferred_username: id, groups: id === 'dana' ? ['dev'] : [] }),
    }),
    claims: { openid: ['sub'], profile: ['preferred_username', 'groups'] },
    pkce: { required: () => true },
  });
  server.on('request', provider.callback());
}

describe('web UI: OIDC login and the audited views, in a real browser', { skip: browserTestsSkip }, () => {
  const dir = tempDir('lathe-www-oidc-');
  const release = join(dir.path, 'release');
  let env: WwwMaster;
  let master: Master;
  let browser: Browser;
  let base: string;
  let issuer: string;
  let providerServer: Server;

  before(async () => {
    providerServer = createServer();
    await new Promise<void>((resolve) => providerServer.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(providerServer.address() as { port: number }).port}`;
    // The master's URL is in its config and the provider's client: chosen first.
    const port = await freePort();
    startProvider(providerServer, issuer, `http://127.0.0.1:${port}/auth/oidc/callback`);
    const config = configText(port, issuer, release, await hashPassword('alice-pw'));
    env = await startWwwMaster(dir.path, config, 'www-oidc', port);
    ({ master, base } = env);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await env?.stop();
    providerServer?.closeAllConnections();
    await new Promise((resolve) => providerServer?.close(resolve));
    dir.cleanup();
  });

  const page = (): Promise<Page> => openPage(browser);
  const builderid = (name: string) => master.builders.get(name)!.builderid;
  const api = async (path: string) =>
    (await fetch(`${base}api/v2${path}`)).json() as Promise<Record<string, unknown>>;

  /** Signs in at the provider from the app's top bar; back on the app's page afterwards. */
  async function signInWithOidc(p: Page, user: string): Promise<void> {
    // The provider's development pages load a web font; nothing may leave the machine.
    await p.route(/fonts\.googleapis\.com/, (route) => route.abort());
    const startedOn = p.url();
    await p.getByRole('link', { name: 'Sign in with Test IdP' }).click();
    await p.waitForURL(`${issuer}/**`);
    await p.locator('input[name="login"]').fill(user);
    await p.locator('input[name="password"]').fill('any');
    await p.getByRole('button', { name: 'Sign-in' }).click();
    await p.getByRole('button', { name: 'Continue' }).click();
    await p.waitForURL(startedOn);
    await p.getByTestId('user').filter({ hasText: user }).waitFor();
  }

  it('signs in with the OIDC provider, returns to the page, and shows the role’s buttons', async () => {
    const p = await page();
    await p.goto(`${base}builders/${builderid('plain')}`);
    // Offered because /auth/me says the master has OIDC configured.
    await p.getByRole('link', { name: 'Sign in with Test IdP' }).waitFor();
    await p.getByRole('button', { name: 'Log in' }).waitFor();
    assert.equal(await p.getByTestId('force-form').count(), 0, 'no force form for anonymous');
    await p.screenshot({ path: join(SHOTS, 'login-oidc.png') });

    await signInWithOidc(p, 'dana');
    // dana's `groups` claim gives the dev role: the force form appears and works.
    await p.getByTestId('force-form').waitFor();
    await p.getByRole('button', { name: 'Force build' }).click();
    await p.waitForURL(/\/buildrequests\/\d+$/);
    const brid = Number(/(\d+)$/.exec(p.url())![1]);
    await waitForRequest(master, brid, 60_000);
    const req = (await api(`/buildrequests/${brid}`)).buildrequests as { buildsetid: number }[];
    const props = await master.data.buildsets.properties(req[0]!.buildsetid);
    assert.deepEqual(props.owner?.[0], 'dana');
    await p.screenshot({ path: join(SHOTS, 'login-oidc-signed-in.png') });
    await p.getByRole('button', { name: 'Log out' }).click();
    await p.getByRole('link', { name: 'Sign in with Test IdP' }).waitFor();
    await p.close();
  });

  it('gives an OIDC user without the role no force button, and the API refuses them', async () => {
    const p = await page();
    await p.goto(`${base}builders/${builderid('plain')}`);
    await signInWithOidc(p, 'erin');
    // Roles: the default viewer only. The page had time to render the form if it would.
    await p.getByTestId('builder-history').waitFor();
    assert.equal(await p.getByTestId('force-form').count(), 0);
    const status = await p.evaluate(async (id) => {
      const me = (await (await fetch('auth/me')).json()) as { csrfToken: string; permissions: string[] };
      const res = await fetch(`api/v2/builders/${id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'force', params: {}, id: 1 }),
      });
      return { status: res.status, permissions: me.permissions };
    }, builderid('plain'));
    assert.deepEqual(status, { status: 403, permissions: ['read'] });
    await p.close();
  });

  it('returns after an OIDC login only to a page under the base URL', () => {
    const b = 'https://ci.example.org/lathe/';
    assert.equal(
      pageUnderBase('builders/3?after=x#L2', b),
      'https://ci.example.org/lathe/builders/3?after=x#L2',
    );
    for (const hostile of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      '../other/',
      '/x',
      5,
    ])
      assert.equal(pageUnderBase(hostile, b), b, String(hostile));
  });

  it('takes free-form properties for the implicit force scheduler, with the server’s refusals beside their rows', async () => {
    const p = await page();
    await p.goto(`${base}builders/${builderid('plain')}`);
    await logIn(p, 'alice');
    const rows = p.getByTestId('free-properties');
    await rows.waitFor();
    await rows.getByRole('button', { name: 'Add property' }).click();
    await rows.getByRole('button', { name: 'Add property' }).click();
    await p.getByLabel('property 1 name').fill('owner');
    await p.getByLabel('property 1 value').fill('mallory');
    await p.getByLabel('property 2 name').fill('bad name');
    await p.getByLabel('property 2 value').fill('x');
    const buildsets = async () => ((await api('/buildsets')).buildsets as unknown[]).length;
    const before = await buildsets();
    await p.getByRole('button', { name: 'Force build' }).click();
    await p
      .locator('[data-error-for="owner"]', { hasText: 'is set by the force or the build itself' })
      .waitFor();
    await p.locator('[data-error-for="bad name"]', { hasText: 'is not a property name' }).waitFor();
    await p.screenshot({ path: join(SHOTS, 'force-free-properties.png'), fullPage: true });
    assert.equal(await buildsets(), before, 'the refused force added nothing');

    await p.getByLabel('property 1 name').fill('colour');
    await p.getByLabel('property 1 value').fill('blue');
    await p.getByRole('button', { name: 'remove property 2' }).click();
    await p.getByRole('button', { name: 'Add property' }).click();
    await p.getByLabel('property 2 name').fill('deploy.host');
    await p.getByLabel('property 2 value').fill('staging');
    await p.getByRole('button', { name: 'Force build' }).click();
    await p.waitForURL(/\/buildrequests\/\d+$/);
    const brid = Number(/(\d+)$/.exec(p.url())![1]);
    const req = (await api(`/buildrequests/${brid}`)).buildrequests as { buildsetid: number }[];
    const props = await master.data.buildsets.properties(req[0]!.buildsetid);
    assert.deepEqual(props.colour, ['blue', 'Force Build Form']);
    assert.deepEqual(props['deploy.host'], ['staging', 'Force Build Form']);
    assert.deepEqual(props.owner?.[0], 'alice');
    await waitForRequest(master, brid, 60_000);
    await p.getByRole('link', { name: /build #\d+/ }).waitFor();
    await p.screenshot({ path: join(SHOTS, 'buildrequest.png'), fullPage: true });
    await p.close();
  });
});
