// The Tests page and annotations in a real browser (Debian's chromium via playwright-core),
// against a real master and a real Lathe worker running a TAP test command whose `flappy`
// test fails on odd runs and passes on even ones, always on the same revision. The test is
// flagged flaky, muted from the UI by a user whose role allows it (and refused to one whose
// role does not), and the next build, where it fails again, passes with warnings. The
// command's Markdown summary, with hostile HTML in it, is shown on the build page sanitised.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { hashPassword } from '../src/auth/password.js';
import { ApiServer } from '../src/http/server.js';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { FAILURE, SUCCESS, WARNINGS } from '../src/results.js';
import { type WorkerRuntime, withWorkers } from '../src/runtime.js';
import { createWorker, type TestWorker, waitFor } from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';
import { browserTestsSkip, CHROMIUM, logIn, openPage as newPage, SHOTS } from './www-browser.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

const HOSTILE_MARKDOWN = `## Test report

**2 tests** ran, see [the docs](https://example.org/docs).

<script>window.__pwned = 'script'</script>

<img src="x" onerror="window.__pwned = 'onerror'">

[click me](javascript:window.__pwned='link')

| test | result |
| --- | --- |
| flappy | alternates |
`;

// Counts its runs in a file outside the build directory; the odd ones fail `flappy`.
const TEST_SCRIPT = [
  'n=$(cat "$STATE" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$STATE"',
  'cp "$REPORT" summary.md',
  'echo "TAP version 13"; echo "1..2"; echo "ok 1 - stable"',
  'if [ $((n % 2)) -eq 1 ]; then echo "not ok 2 - flappy"; exit 1; fi',
  'echo "ok 2 - flappy"',
].join('\n');

const configText = (
  paths: { state: string; report: string },
  hashes: { alice: string; bob: string },
) => `import { buildFactory, defineConfig, shellCommand, test } from '${lathe}';
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  www: {
    auth: {
      roles: { triage: ['read', 'quarantine'], viewer: ['read'] },
      users: {
        alice: { password: ${JSON.stringify(hashes.alice)}, roles: ['triage'] },
        bob: { password: ${JSON.stringify(hashes.bob)}, roles: ['viewer'] },
      },
    },
  },
  builders: [
    {
      name: 'unit',
      workerNames: ['w1'],
      factory: buildFactory(
        test({
          name: 'unit tests',
          format: 'tap',
          command: ${JSON.stringify(TEST_SCRIPT)},
          env: { STATE: ${JSON.stringify(paths.state)}, REPORT: ${JSON.stringify(paths.report)} },
          logfiles: { annotation: 'summary.md' },
        }),
      ),
    },
    {
      name: 'oversized',
      workerNames: ['w1'],
      factory: buildFactory(
        shellCommand({
          name: 'report',
          command: "head -c 1100000 /dev/zero | tr '\\\\0' a | fold -w 100 > big.md",
          logfiles: { annotation: 'big.md' },
        }),
      ),
    },
  ],
});
`;

const ready = !browserTestsSkip;

describe('Tests page and annotations in a real browser', {
  skip: !ready && `needs ${CHROMIUM} and the built worker`,
}, () => {
  const dir = tempDir('lathe-www-tests-');
  let rt: WorkerRuntime;
  let master: Master;
  let worker: TestWorker;
  let browser: Browser;
  const api = new ApiServer({ port: 0 });
  let base: string;

  before(async () => {
    const masterDir = join(dir.path, 'master');
    mkdirSync(masterDir);
    const report = join(dir.path, 'report.md');
    writeFileSync(report, HOSTILE_MARKDOWN);
    writeFileSync(
      join(masterDir, 'master.config.ts'),
      configText(
        { state: join(dir.path, 'runs'), report },
        { alice: await hashPassword('alice-pw'), bob: await hashPassword('bob-pw') },
      ),
    );
    rt = withWorkers(
      { basedir: masterDir, name: 'www-tests', onError: () => {}, services: [api] },
      { port: 0, host: '127.0.0.1' },
    );
    master = await startMaster(rt.options);
    worker = createWorker('lathe', join(dir.path, 'worker'), 'w1', 'pw-1', rt.server.port);
    worker.start();
    await waitFor(() => master.workers.get('w1')!.connected, 20_000, 'the worker to attach');
    base = `http://127.0.0.1:${api.port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await worker?.kill();
    await master?.stop();
    dir.cleanup();
  });

  /** Builds `unit` on the same revision each time; its result and its test step's state. */
  async function buildUnit(): Promise<{ number: number; results: number | null; state: string }> {
    const { buildrequestid } = await forceBuild(master, { builder: 'unit', revision: 'cafe1234' });
    await waitForRequest(master, buildrequestid, 60_000);
    const [build] = await master.data.builds.forRequest(buildrequestid);
    const [step] = await master.data.steps.forBuild(build!.id);
    return { number: build!.number, results: build!.results, state: step!.stateString };
  }

  /** Mute through the API as the page's logged-in user, CSRF token in hand: the HTTP status. */
  const muteFromPage = (p: Page, testid: number) =>
    p.evaluate(async (id) => {
      const me = (await (await fetch('/auth/me')).json()) as { csrfToken: string };
      const res = await fetch(`/api/v2/tests/${id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'mute', params: { reason: 'no' }, id: 1 }),
      });
      return res.status;
    }, testid);

  it('flags a flaky test, mutes it from the UI, and the next build it fails in passes', async () => {
    const builderid = master.builders.get('unit')!.builderid;
    const first = await buildUnit();
    assert.equal(first.results, FAILURE, 'flappy fails the first build');
    const second = await buildUnit();
    assert.equal(second.results, SUCCESS);

    const p = await newPage(browser);
    await p.goto(`${base}builders/${builderid}`);
    await p.getByRole('link', { name: 'Tests' }).click();
    await p.waitForURL(`${base}builders/${builderid}/tests`);
    const flappy = p.locator('tr[data-test="flappy"]');
    await flappy.getByTestId('flaky-badge').waitFor();
    assert.equal(await p.locator('tr[data-test="stable"]').getByTestId('flaky-badge').count(), 0);
    // The filter is part of the URL, and only the flaky test is left.
    await p.getByLabel('show').selectOption('flaky');
    await p.waitForURL(/show=flaky/);
    await p.locator('[data-testid="tests"] tbody tr').first().waitFor();
    assert.deepEqual(
      await p
        .locator('[data-testid="tests"] tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-test'))),
      ['flappy'],
    );
    await p.screenshot({ path: join(SHOTS, 'tests.png'), fullPage: true });

    await p.getByRole('link', { name: 'flappy' }).click();
    await p.waitForURL(/\/tests\/\d+$/);
    const testid = Number(new URL(p.url()).pathname.split('/').at(-1));
    // Its last failures: build #1's, the flake a pass of the same revision contradicted.
    const failure = p.getByTestId('test-failures').locator('tbody tr');
    await failure.first().waitFor();
    assert.equal(await failure.count(), 1);
    assert.match((await failure.textContent()) ?? '', /#1.*fail.*cafe1234.*flake/);
    assert.equal(await p.getByTestId('test-history').locator('tbody tr').count(), 2);

    // Bob may only read: no Mute button, and the API refuses him.
    await logIn(p, 'bob');
    assert.equal(await p.getByRole('button', { name: 'Mute' }).count(), 0);
    assert.equal(await muteFromPage(p, testid), 403);
    await p.getByRole('button', { name: 'Log out' }).click();

    await logIn(p, 'alice');
    await p.getByLabel('mute reason').fill('flaky on CI, see #42');
    await p.getByRole('button', { name: 'Mute' }).click();
    await p.getByTestId('mute-reason').filter({ hasText: 'flaky on CI, see #42' }).waitFor();
    assert.match((await p.getByTestId('quarantine').textContent()) ?? '', /Muted by alice/);
    await p.getByTestId('test-name').getByTestId('muted-badge').waitFor();

    // Still run, still failing, no longer failing the build: the step says so.
    const third = await buildUnit();
    assert.equal(third.results, WARNINGS);
    assert.equal(third.state, 'unit tests: 1 passed, 1 failed (1 muted) (warnings)');
    // The open page shows the new run without a reload.
    const history = p.getByTestId('test-history').locator('tbody tr');
    await history.filter({ hasText: '#3' }).filter({ hasText: 'muted' }).waitFor({ timeout: 10_000 });
    await p.screenshot({ path: join(SHOTS, 'test.png'), fullPage: true });

    await p.getByRole('button', { name: 'Unmute' }).click();
    await p.getByText('Not muted').waitFor();
    assert.deepEqual(await master.data.testHistory.mutedNames(builderid), new Set());
    await p.close();
  });

  it('renders a step’s Markdown annotation on the build page, sanitised', async () => {
    const builderid = master.builders.get('unit')!.builderid;
    const p = await newPage(browser);
    await p.goto(`${base}builders/${builderid}/builds/1`);
    const note = p.getByTestId('annotations').locator('.annotation');
    await note.first().waitFor();
    assert.equal(await note.locator('h3').textContent(), 'unit tests');
    const body = note.locator('.annotation-body');
    assert.equal(await body.locator('strong').first().textContent(), '2 tests');
    assert.equal(await body.locator('table td').first().textContent(), 'flappy');
    const docs = body.getByRole('link', { name: 'the docs' });
    assert.equal(await docs.getAttribute('href'), 'https://example.org/docs');
    assert.match((await docs.getAttribute('rel')) ?? '', /noopener/);
    // Raw HTML is shown as text; nothing executable reaches the page.
    assert.match((await body.textContent()) ?? '', /<script>window.__pwned = 'script'<\/script>/);
    assert.equal(await body.locator('script, img[onerror], [onerror], iframe').count(), 0);
    const link = body.getByText('click me');
    assert.doesNotMatch((await link.getAttribute('href')) ?? '', /javascript:/i);
    await link.click();
    assert.equal(await p.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned), undefined);
    await p.screenshot({ path: join(SHOTS, 'annotations.png'), fullPage: true });
    await p.close();
  });

  it('refuses an annotation over 1 MiB with a clear error in its place', async () => {
    const { buildrequestid } = await forceBuild(master, { builder: 'oversized' });
    await waitForRequest(master, buildrequestid, 60_000);
    const [build] = await master.data.builds.forRequest(buildrequestid);
    const p = await newPage(browser);
    await p.goto(`${base}builders/${build!.builderid}/builds/${build!.number}`);
    const note = p.getByTestId('annotations').locator('.annotation-error');
    await note.waitFor();
    assert.equal(await note.locator('h3').textContent(), 'report: annotation refused');
    assert.match(
      (await note.textContent()) ?? '',
      /is \d+ bytes of Markdown; the limit is 1048576 bytes \(1 MiB\)/,
    );
    await p.close();
  });
});
