// The web UI's views beyond the basics, in a real browser against a real master and
// worker: the console and the grid show a build made for a new change without a reload;
// the force form renders a force scheduler's typed parameters and shows the scheduler's
// refusals beside their fields; worker pause and shutdown buttons follow the role; charts
// draw what the metrics API holds (and are loaded only when shown); builders show their
// trend and next timed run; badges narrow to a branch. Screenshots go to test-results/www/.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { hashPassword } from '../src/auth/password.js';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { waitFor } from './bbworker.js';
import { tempDir } from './helpers.js';
import {
  browserTestsSkip,
  latheIndexUrl,
  launchBrowser,
  logIn,
  openPage,
  SHOTS,
  startWwwMaster,
  type WwwMaster,
} from './www-browser.js';

const USERS = ['alice', 'bob', 'carol'] as const;

const configText = (
  failFile: string,
  hashes: Record<(typeof USERS)[number], string>,
) => `import { booleanParameter, buildFactory, choiceParameter, defineConfig, forceScheduler, intParameter,
  nestedParameter, nightlyScheduler, shellCommand, singleBranchScheduler, stringParameter, textParameter } from '${latheIndexUrl}';
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  www: {
    auth: {
      roles: { dev: ['read', 'force', 'stop', 'rebuild'], ops: ['read', 'workers'], viewer: ['read'] },
      users: {
        alice: { password: ${JSON.stringify(hashes.alice)}, roles: ['dev'] },
        bob: { password: ${JSON.stringify(hashes.bob)}, roles: ['viewer'] },
        carol: { password: ${JSON.stringify(hashes.carol)}, roles: ['ops'] },
      },
    },
  },
  builders: [
    {
      name: 'app',
      tags: ['ci'],
      workerNames: ['w1'],
      // Fails while the test's fail file exists: a failing build on another branch.
      factory: buildFactory(shellCommand({ name: 'check', command: 'echo checking; test ! -e "$FAIL"', env: { FAIL: ${JSON.stringify(failFile)} } })),
    },
    { name: 'lint', tags: ['ci'], workerNames: ['w1'], factory: buildFactory(shellCommand({ command: 'echo lint' })) },
    { name: 'params', tags: ['tools'], workerNames: ['w1'], factory: buildFactory(shellCommand({ command: 'echo params' })) },
  ],
  schedulers: [
    singleBranchScheduler({ name: 'on-main', branch: 'main', builderNames: ['app', 'lint'] }),
    forceScheduler({ name: 'force-app', builderNames: ['app', 'lint'] }),
    forceScheduler({
      name: 'force-params',
      builderNames: ['params'],
      parameters: [
        stringParameter({ name: 'label', regex: /[a-z-]+/, default: 'nightly' }),
        textParameter({ name: 'notes' }),
        intParameter({ name: 'jobs', label: 'parallel jobs', min: 1, max: 64, default: 2 }),
        booleanParameter({ name: 'dry' }),
        choiceParameter({ name: 'target', choices: ['debug', 'release'], default: 'release' }),
        nestedParameter({ name: 'deploy', fields: [stringParameter({ name: 'host', required: true }), intParameter({ name: 'port', default: 22 })] }),
      ],
    }),
    // Far in the future: it never runs during the test, but it has a next run to show.
    nightlyScheduler({ name: 'nightly-app', builderNames: ['app'], cron: '0 3 1 1 *', timezone: 'UTC' }),
  ],
});
`;

describe('web UI views in a real browser', { skip: browserTestsSkip }, () => {
  const dir = tempDir('lathe-www-views-');
  const failFile = join(dir.path, 'fail');
  let env: WwwMaster;
  let master: Master;
  let browser: Browser;
  let base: string;

  before(async () => {
    const hashes = Object.fromEntries(
      await Promise.all(USERS.map(async (u) => [u, await hashPassword(`${u}-pw`)] as const)),
    ) as Record<(typeof USERS)[number], string>;
    env = await startWwwMaster(dir.path, configText(failFile, hashes), 'www-views');
    ({ master, base } = env);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await env?.stop();
    dir.cleanup();
  });

  const page = (): Promise<Page> => openPage(browser);
  const builderid = (name: string) => master.builders.get(name)!.builderid;
  const api = async (path: string) =>
    (await fetch(`${base}api/v2${path}`)).json() as Promise<Record<string, unknown>>;
  /** Waits until every request of the change's buildset has finished. */
  async function changeBuilt(changeid: number): Promise<void> {
    await waitFor(
      async () => {
        const builds = (await api(`/changes/${changeid}/builds`)).builds as { complete: boolean }[];
        return builds.length === 2 && builds.every((b) => b.complete);
      },
      60_000,
      `the builds of change ${changeid}`,
    );
  }

  it('shows a build made for a new change on the open console and grid, without a reload', async () => {
    const console_ = await page();
    await console_.goto(`${base}console`);
    await console_.getByText('No changes yet.').waitFor();
    const grid = await page();
    await grid.goto(`${base}grid`);
    await grid.locator('[data-testid="grid"] tr[data-builder="app"]').waitFor();

    const revision = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
    const changeid = await master.addChange({
      author: 'Dana <dana@example.org>',
      comments: 'Make the widget faster',
      branch: 'main',
      revision,
      repository: 'https://example.org/app.git',
    });
    // A row for the change, then its builds in the app and lint columns, finished and green.
    const row = console_.locator(`tr[data-revision="${revision}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.locator('td[data-builder="app"] .chip.result-success').waitFor({ timeout: 60_000 });
    await row.locator('td[data-builder="lint"] .chip.result-success').waitFor({ timeout: 60_000 });
    // Builders are grouped by tag: the tools group's builder has a column but nothing in it.
    assert.equal(await row.locator('td[data-builder="params"] .chip').count(), 0);
    await console_.getByRole('columnheader', { name: '#tools' }).waitFor();
    // The cell's blamelist opens on click.
    await row.locator('td[data-builder="app"] .chip').click();
    const blame = console_.getByRole('dialog', { name: /blamelist of app #/ });
    await blame.getByText('Make the widget faster').waitFor();
    // From the keyboard too: Enter on the chip closes it, Space opens it.
    const chip = row.locator('td[data-builder="app"] .chip').first();
    assert.equal(await chip.getAttribute('aria-expanded'), 'true');
    await chip.press('Enter');
    await blame.waitFor({ state: 'detached' });
    assert.equal(await chip.getAttribute('aria-expanded'), 'false');
    await chip.press(' ');
    await blame.getByText('Make the widget faster').waitFor();
    await console_.screenshot({ path: join(SHOTS, 'console.png'), fullPage: true });

    const appRow = grid.locator('[data-testid="grid"] tr[data-builder="app"]');
    await appRow.locator('.chip.result-success').waitFor({ timeout: 10_000 });
    await grid.getByRole('columnheader', { name: revision.slice(0, 8) }).waitFor();
    await grid.screenshot({ path: join(SHOTS, 'grid.png'), fullPage: true });
    // Narrowed to a tag (the way past the most builders a matrix shows): its builders only.
    await console_.getByTestId('matrix-scope').getByRole('link', { name: '#tools' }).click();
    await console_.waitForURL(`${base}console?tag=tools`);
    // The page keeps the matrix it shows until the narrowed one's builds answer: wait for it.
    await console_.locator('td[data-builder="app"]').first().waitFor({ state: 'detached' });
    await console_.locator(`tr[data-revision="${revision}"] td[data-builder="params"]`).waitFor();
    assert.equal(await console_.locator('td[data-builder="app"]').count(), 0);
    await grid.goto(`${base}grid?tag=ci`);
    await grid.locator('[data-testid="grid"] tr[data-builder="lint"]').waitFor();
    assert.equal(await grid.locator('[data-testid="grid"] tr[data-builder="params"]').count(), 0);
    await console_.close();
    await grid.close();
    await changeBuilt(changeid);
  });

  it('starts a page’s first reads before the app’s script runs, and the app uses them', async () => {
    const id = builderid('app');
    // What each page shows once those reads answered, with or without builds.
    const pages: [string, string, string[]][] = [
      [
        `builders/${id}`,
        '[data-testid="builder-history"], p:has-text("No builds yet.")',
        [`builders/${id}`, `builders/${id}/builds?limit=25`],
      ],
      [
        'console',
        '[data-testid="console"], p:has-text("No changes yet.")',
        ['builders?order=name', 'changes?limit=25'],
      ],
      ['grid', '[data-testid="grid"]', ['builders?order=name', 'buildsets?limit=20']],
    ];
    for (const [path, ready, reads] of pages) {
      const p = await page();
      const asked: string[] = [];
      p.on('request', (r) => asked.push(r.url()));
      await p.goto(`${base}${path}`);
      await p.locator(ready).first().waitFor({ timeout: 10_000 });
      // Each early read was asked for once, and the app took its answer (none left over).
      for (const read of reads)
        assert.equal(asked.filter((u) => u === `${base}api/v2/${read}`).length, 1, `${path}: ${read}`);
      assert.equal(
        await p.evaluate(
          () => (globalThis as { __latheEarlyReads?: Map<string, unknown> }).__latheEarlyReads?.size,
        ),
        0,
        `${path}: every early read taken`,
      );
      await p.close();
    }
  });

  it('reads a builder page as its link is pressed, shows the right builder in the app, and the back button returns', async () => {
    const p = await page();
    const asked: string[] = [];
    p.on('request', (r) => asked.push(r.url()));
    await p.goto(`${base}builders`);
    // app and lint have the builds of the first test's change.
    const [app, lint] = [builderid('app'), builderid('lint')];
    const reads = (id: number) => [
      `${base}api/v2/builders/${id}`,
      `${base}api/v2/builders/${id}/builds?limit=25`,
    ];
    /** The build numbers the builder page lists, checked against the data API. */
    const shownBuilds = async (id: number, name: string) => {
      await p.getByRole('heading', { level: 1, name }).waitFor();
      const expected = ((await api(`/builders/${id}/builds?limit=25`)).builds as { number: number }[]).map(
        (b) => `/builders/${id}/builds/${b.number}`,
      );
      assert.ok(expected.length > 0, `${name} has builds`);
      await p.locator('[data-testid="builder-history"] tbody tr').first().waitFor();
      const links = p.locator('[data-testid="builder-history"] tbody tr td:first-child a');
      assert.deepEqual(await Promise.all((await links.all()).map((a) => a.getAttribute('href'))), expected);
    };

    // Pressed, not yet released: the builder page's reads are under way on the builders page.
    await p.locator('tr[data-builder="app"] td:first-child a').hover();
    await p.mouse.down();
    await Promise.all(reads(app).map((url) => p.waitForRequest(url, { timeout: 5000 })));
    assert.equal(p.url(), `${base}builders`);
    await p.mouse.up();
    await p.waitForURL(`${base}builders/${app}`);
    await shownBuilds(app, 'app');
    // The page took those answers instead of asking again.
    for (const url of reads(app)) assert.equal(asked.filter((u) => u === url).length, 1, url);

    await p.goBack();
    await p.locator('tr[data-builder="lint"] td:first-child a').click();
    await p.waitForURL(`${base}builders/${lint}`);
    await shownBuilds(lint, 'lint');
    await p.goBack();
    await p.waitForURL(`${base}builders`);
    await p.locator('tr[data-builder="app"] .result').waitFor();
    await p.goForward();
    await shownBuilds(lint, 'lint');

    // A press released elsewhere navigates nowhere, and its reads are dropped unused.
    await p.goBack();
    await p.locator('tr[data-builder="params"] td:first-child a').hover();
    await p.mouse.down();
    await p.getByRole('heading', { level: 1, name: 'Builders' }).hover();
    await p.mouse.up();
    assert.equal(p.url(), `${base}builders`);
    await p.waitForFunction(
      () => (globalThis as { __latheEarlyReads?: Map<string, unknown> }).__latheEarlyReads?.size === 0,
      undefined,
      { timeout: 10_000 },
    );
    await p.close();
  });

  it('renders the force scheduler’s typed parameters and shows its refusals beside the fields', async () => {
    const p = await page();
    await p.goto(`${base}builders/${builderid('params')}`);
    await logIn(p, 'alice');
    const form = p.getByTestId('force-form');
    await form.waitFor();
    // Every type as its own kind of field, with its default.
    assert.equal(await form.getByLabel('label').inputValue(), 'nightly');
    assert.equal(await form.getByLabel('notes').evaluate((e) => e.tagName), 'TEXTAREA');
    assert.equal(await form.getByLabel(/parallel jobs/).inputValue(), '2');
    assert.equal(await form.getByLabel('dry').getAttribute('type'), 'checkbox');
    assert.deepEqual(await form.getByLabel('target').locator('option').allTextContents(), [
      'debug',
      'release',
    ]);
    assert.equal(await form.getByLabel('target').inputValue(), 'release');
    const deploy = form.getByRole('group', { name: 'deploy' });
    assert.equal(await deploy.getByLabel('port').inputValue(), '22');

    // A bad integer and a missing required field: refused by the scheduler, each named beside its field.
    await form.getByLabel(/parallel jobs/).fill('4x');
    await form.getByRole('button', { name: 'Force build' }).click();
    await form.locator('[data-error-for="jobs"]', { hasText: 'must be an integer, got "4x"' }).waitFor();
    await form
      .locator('[data-param="deploy.host"] [data-error-for="deploy.host"]', { hasText: 'is required' })
      .waitFor();
    await p.screenshot({ path: join(SHOTS, 'force-form-errors.png'), fullPage: true });
    assert.match(p.url(), /\/builders\/\d+$/, 'a refused force stays on the form');

    await form.getByLabel(/parallel jobs/).fill('8');
    await deploy.getByLabel(/host/).fill('staging-1');
    await form.getByLabel('dry').check();
    await form.getByLabel('target').selectOption('debug');
    await form.getByRole('button', { name: 'Force build' }).click();
    await p.waitForURL(/\/buildrequests\/\d+$/);
    const request = await master.data.buildrequests.get(Number(p.url().split('/').pop()));
    const props = await master.data.buildsets.properties(request!.buildsetid);
    assert.deepEqual(props.jobs, [8, 'Force Build Form']);
    assert.deepEqual(props.dry, [true, 'Force Build Form']);
    assert.deepEqual(props.target, ['debug', 'Force Build Form']);
    assert.deepEqual(props.deploy, [{ host: 'staging-1', port: 22 }, 'Force Build Form']);
    await p.close();
  });

  it('shows worker pause and shutdown only to the workers role, and they work', async () => {
    const p = await page();
    await p.goto(`${base}workers`);
    const row = p.locator('tr[data-worker="w1"]');
    await row.getByText('connected').waitFor();
    assert.equal(await row.getByRole('button').count(), 0, 'anonymous: no buttons');
    await logIn(p, 'bob');
    assert.equal(await row.getByRole('button').count(), 0, 'bob may only read');
    await p.getByRole('button', { name: 'Log out' }).click();

    await logIn(p, 'carol');
    await row.getByRole('button', { name: 'Pause' }).click();
    await row.getByText('connected, paused').waitFor();
    assert.equal(master.workers.get('w1')!.paused, true);
    await row.getByRole('button', { name: 'Shut down' }).waitFor();
    await p.screenshot({ path: join(SHOTS, 'workers-actions.png'), fullPage: true });
    await row.getByRole('button', { name: 'Unpause' }).click();
    await row.getByRole('button', { name: 'Pause' }).waitFor();
    assert.equal(master.workers.get('w1')!.paused, false);
    await p.close();
  });

  it('charts each metric with the values the metrics API holds, loading uPlot only then', async () => {
    // A second change: two points on each chart.
    await changeBuilt(
      await master.addChange({
        author: 'Dana',
        comments: 'second',
        branch: 'main',
        revision: 'f'.repeat(40),
      }),
    );
    const id = builderid('app');
    const p = await page();
    const scripts: string[] = [];
    p.on('request', (r) => r.resourceType() === 'script' && scripts.push(r.url()));
    await p.goto(base);
    await p.getByText('Nothing is building.').waitFor();
    assert.equal(scripts.filter((u) => /charts/.test(u)).length, 0, 'no chart code on the home page');

    await p.goto(`${base}builders/${id}/charts`);
    const figure = p.locator('figure[data-metric="build.duration_s"]');
    await figure.locator('canvas').first().waitFor({ timeout: 10_000 });
    assert.ok(
      scripts.some((u) => /charts/.test(u)),
      'the chart code was loaded for the charts page',
    );
    const expected = (
      (await api(`/builders/${id}/metrics/build.duration_s`)).metrics as { buildid: number; value: number }[]
    )
      .map((m) => [String(m.buildid), String(m.value)])
      .sort();
    assert.equal(expected.length, 2);
    const shown = (
      await figure
        .locator('[data-testid="metric-values"] tbody tr')
        .evaluateAll((rows) =>
          rows.map((r) => [r.getAttribute('data-buildid') ?? '', r.getAttribute('data-value') ?? '']),
        )
    ).sort();
    assert.deepEqual(shown, expected);
    // Other metrics the build recorded have charts too (a step's duration).
    await p.locator('figure[data-metric="step:check:duration_s"]').waitFor();

    // Hovering the plot shows the value under the cursor in the legend.
    const over = figure.locator('.u-over');
    const box = (await over.boundingBox())!;
    await p.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    const legend = figure.locator('.u-legend .u-series').nth(1).locator('.u-value');
    await waitFor(async () => (await legend.textContent()) !== '--', 5_000, 'a value in the legend');
    const hovered = Number((await legend.textContent())!.replaceAll(',', ''));
    assert.ok(
      expected.some(([, v]) => Math.abs(Number(v) - hovered) < 0.01),
      `legend ${hovered} is one of ${expected.map(([, v]) => v).join(', ')}`,
    );
    await p.screenshot({ path: join(SHOTS, 'charts.png'), fullPage: true });

    // The builder page charts the summary metrics.
    await p.goto(`${base}builders/${id}`);
    await p.locator('figure[data-metric="build.duration_s"] canvas').first().waitFor({ timeout: 10_000 });
    await p.screenshot({ path: join(SHOTS, 'builder-charts.png'), fullPage: true });
    await p.close();
  });

  it('shows each builder’s success rate, duration trend and next timed run', async () => {
    const p = await page();
    await p.goto(`${base}builders`);
    const app = p.locator('tr[data-builder="app"]');
    // Two passing builds: two dots in the success colour's one path (attached, not
    // "visible": dots of equal durations lie on one line, a box without height).
    await app.locator('[data-testid="trend"] path[d*="h0M"]').waitFor({ state: 'attached', timeout: 10_000 });
    assert.equal(await app.getByTestId('trend').getAttribute('data-success-rate'), '100');
    await app
      .getByTestId('next-run')
      .getByText(/next nightly-app:/)
      .waitFor();
    assert.equal(await p.locator('tr[data-builder="lint"]').getByTestId('next-run').textContent(), '');
    await p.screenshot({ path: join(SHOTS, 'builders-trends.png'), fullPage: true });
    await p.close();
  });

  it('serves a builder’s badge for one branch', async () => {
    // The newest build of app is a failure on another branch.
    writeFileSync(failFile, '');
    const { buildrequestid } = await forceBuild(master, { builder: 'app', branch: 'feature' });
    await waitForRequest(master, buildrequestid, 60_000);
    rmSync(failFile);
    const badge = async (query: string) => {
      const res = await fetch(`${base}badges/app.svg${query}`);
      assert.equal(res.status, 200);
      return (await res.text()).match(/aria-label="([^"]*)"/)![1];
    };
    assert.equal(await badge(''), 'app: failing');
    assert.equal(await badge('?branch=feature'), 'app: failing');
    assert.equal(await badge('?branch=main'), 'app: passing');
    assert.equal(await badge('?branch=nowhere'), 'app: unknown');
    assert.equal(await badge('?branch=main&codebase=other'), 'app: unknown');
  });
});
