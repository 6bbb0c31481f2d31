// The web UI's login with OpenID Connect and what the audit of the UI added, in a real
// browser (Debian's chromium) against a real master and worker and a real OpenID provider
// (npm `oidc-provider`, its development login and consent pages) started by the test:
// "Sign in with …" appears because the master says it offers OIDC, the round trip through
// the provider ends on the page it began on with the role's buttons, and a user whose
// roles lack `force` gets no button while the API refuses them. The implicit force
// scheduler's form takes free-form properties (the server's refusals beside their rows);
// `--- `/`+++ ` section markers fold in the log viewer; a build shows the builds it
// triggered and the workers page what each worker is building, live; the keyboard reaches
// and opens pages and `/` focuses search; the theme follows the system and the toggle;
// main pages have no horizontal scroll on a phone.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Provider from 'oidc-provider';
import type { Browser, Page } from 'playwright-core';
import { hashPassword } from '../src/auth/password.js';
import { pageUnderBase } from '../src/http/oidc.js';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { waitFor } from './bbworker.js';
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
  stdioOfForcedBuild,
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
    // Roles: the default viewer only (the form depends on nothing but who is logged in).
    await p.getByRole('heading', { name: 'plain' }).waitFor();
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

  it('folds `--- ` sections and shows `+++ ` ones open; `/` focuses the search, which opens a folded one', async () => {
    const stdio = await stdioOfForcedBuild(master, 'marked');
    const p = await page();
    await p.goto(`${base}logs/${stdio.id}`);
    // Scrolled, not End: End jumps to the last line and so opens the section holding it
    // (Cleanup), now that the sections are known as soon as the page opens.
    await p.getByTestId('log-scroller').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    const install = p.getByRole('button', { name: /Install/ });
    const tests = p.getByRole('button', { name: /Run tests/ });
    const cleanup = p.getByRole('button', { name: /Cleanup/ });
    await install.waitFor();
    await cleanup.waitFor();
    // `---` folded, `+++` open; a section runs to the next header.
    assert.equal(await install.getAttribute('aria-expanded'), 'false');
    assert.equal(await tests.getAttribute('aria-expanded'), 'true');
    assert.equal(await cleanup.getAttribute('aria-expanded'), 'false');
    assert.match((await install.textContent()) ?? '', /\(20 lines\)/);
    assert.equal(await p.getByText('install 1', { exact: true }).count(), 0);
    await p.getByText('running test 5', { exact: true }).waitFor();
    await install.click();
    await p.getByText('install 1', { exact: true }).waitFor();
    await p.screenshot({ path: join(SHOTS, 'log-marker-sections.png') });

    // The keyboard: `/` focuses the search field, Enter searches, the hit's section opens.
    await p.locator('body').click({ position: { x: 5, y: 5 } });
    await p.keyboard.press('/');
    assert.equal(await p.evaluate('document.activeElement?.getAttribute("aria-label")'), 'search log');
    await p.keyboard.type('cleanup 7');
    await p.keyboard.press('Enter');
    await p.locator('.line.highlight', { hasText: 'cleanup 7' }).waitFor();
    assert.equal(await cleanup.getAttribute('aria-expanded'), 'true');
    await p.getByText('cleanup 6', { exact: true }).waitFor();
    await p.close();
  });

  it('shows the builds a build triggered, and the worker running them, live', async () => {
    const { buildrequestid } = await forceBuild(master, { builder: 'parent' });
    let parentNumber: number | undefined;
    await waitFor(
      async () => {
        parentNumber = (await master.data.builds.forRequest(buildrequestid))[0]?.number;
        return parentNumber !== undefined;
      },
      30_000,
      'the parent build to start',
    );
    const p = await page();
    await p.goto(`${base}builders/${builderid('parent')}/builds/${parentNumber}`);
    const triggered = p.getByTestId('triggered-builds');
    const child = triggered.getByRole('link', { name: /^child #\d+$/ });
    await child.waitFor({ timeout: 30_000 });
    assert.equal(await triggered.locator('.result-success').count(), 0, 'still running');
    // The workers page shows what w1 is building: both, until they finish.
    const workers = await page();
    await workers.goto(`${base}workers`);
    const building = workers.locator('tr[data-worker="w1"] [data-testid="worker-builds"]');
    await building.getByRole('link', { name: /^child #\d+$/ }).waitFor();
    await building.getByRole('link', { name: `parent #${parentNumber}` }).waitFor();
    await workers.screenshot({ path: join(SHOTS, 'workers-building.png'), fullPage: true });
    writeFileSync(release, '');
    await building.getByText('idle').waitFor({ timeout: 30_000 });
    await workers.close();
    // Finishes on the open page, without a reload.
    await triggered.locator('li .result-success').waitFor({ timeout: 30_000 });
    await p.locator('h1 .result-success').waitFor({ timeout: 30_000 });
    await p.screenshot({ path: join(SHOTS, 'build-triggered.png'), fullPage: true });
    await child.click();
    await p.waitForURL(/\/builds\/\d+$/);
    await p.getByRole('heading', { name: /child #\d+/ }).waitFor();
    await waitForRequest(master, buildrequestid, 30_000);
    await p.close();
  });

  it('reaches and opens pages with the keyboard, the focus shown', async () => {
    const p = await page();
    await p.goto(`${base}builders`);
    await p.locator('tr[data-builder="plain"]').waitFor();
    await p.keyboard.press('Tab');
    // (Expressions run in the page: the tests have no DOM types.)
    const ring = await p.evaluate(
      '({ text: document.activeElement.textContent, outline: getComputedStyle(document.activeElement).outlineStyle })',
    );
    assert.deepEqual(ring, { text: 'Lathe', outline: 'solid' });
    let focused = '';
    for (let i = 0; i < 60 && focused !== 'plain'; i++) {
      await p.keyboard.press('Tab');
      focused = await p.evaluate<string>('document.activeElement?.textContent ?? ""');
    }
    assert.equal(focused, 'plain', 'Tab reaches the builder’s link');
    await p.keyboard.press('Enter');
    await p.waitForURL(`${base}builders/${builderid('plain')}`);
    await p.getByRole('heading', { name: 'plain' }).waitFor();
    await p.close();
  });

  it('follows the system’s colour scheme, and the toggle overrides it across reloads', async () => {
    const p = await page();
    const background = () => p.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    const DARK = 'rgb(22, 24, 27)';
    const LIGHT = 'rgb(253, 253, 252)';
    await p.emulateMedia({ colorScheme: 'dark' });
    await p.goto(base);
    await p.getByRole('button', { name: 'theme: auto' }).waitFor();
    assert.equal(await background(), DARK);
    await p.screenshot({ path: join(SHOTS, 'home-dark.png'), fullPage: true });
    await p.emulateMedia({ colorScheme: 'light' });
    assert.equal(await background(), LIGHT);
    await p.getByRole('button', { name: 'theme: auto' }).click();
    assert.equal(await background(), DARK, 'the toggle chose dark over the light system');
    await p.reload();
    await p.getByRole('button', { name: 'theme: dark' }).waitFor();
    assert.equal(await background(), DARK);
    await p.emulateMedia({ colorScheme: 'dark' });
    await p.getByRole('button', { name: 'theme: dark' }).click();
    assert.equal(await background(), LIGHT, 'the toggle chose light over the dark system');
    await p.getByRole('button', { name: 'theme: light' }).click();
    assert.equal(await background(), DARK, 'back to the system’s');
    await p.close();
  });

  it('fits the main pages in a phone’s width, without horizontal scrolling', async () => {
    const { buildrequestid } = await forceBuild(master, { builder: 'plain' });
    await waitForRequest(master, buildrequestid, 60_000);
    const [build] = await master.data.builds.forRequest(buildrequestid);
    const [step] = await master.data.steps.forBuild(build!.id);
    const [log] = await master.data.logs.forStep(step!.id);
    const pages: [string, string][] = [
      ['home', ''],
      ['builders', 'builders'],
      ['builder', `builders/${builderid('plain')}`],
      ['build', `builds/${build!.id}`],
      ['log', `logs/${log!.id}`],
      ['console', 'console'],
      ['grid', 'grid'],
      ['waterfall', 'waterfall'],
      ['workers', 'workers'],
      ['changes', 'changes'],
      ['tests', `builders/${builderid('plain')}/tests`],
    ];
    const p = await browser.newPage({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    p.on('pageerror', (err) => assert.fail(`page error: ${err.message}`));
    const overflowing: string[] = [];
    for (const [name, path] of pages) {
      await p.goto(`${base}${path}`);
      await p.waitForLoadState('networkidle');
      await p.locator('main').first().waitFor();
      await p.waitForFunction('!document.body.textContent.includes("Loading…")');
      const width = await p.evaluate<number>('document.documentElement.scrollWidth');
      if (width > 390) overflowing.push(`${name} (${width} px)`);
      await p.screenshot({ path: join(SHOTS, `phone-${name}.png`), fullPage: true });
    }
    assert.deepEqual(overflowing, []);
    await p.close();
  });
});
