// The web UI on a large history, in a real browser (Debian's chromium via playwright-core):
// how soon each page shows its content, how long an in-app navigation takes, and the
// 100 MB log page (first lines, last lines, JS heap). The server is the master's own HTTP
// app (data API + web UI) over SQLite seeded with BUILDERS builders and BUILDS builds
// (default 1,000 and 1,000,000) by ../history-seed.ts, and a step log of LOG_MB MB written
// through the data layer.
//
//   ./dev node bench/www/run.ts [--builders N] [--builds N] [--log-mb N] [--repeat N]
//                               [--only home,builders,builder,build,waterfall,console,grid,
//                                       click,paging,blamelist,log]
//
// "content" is the time from navigation start until the page's data is on screen (a
// selector that only exists once the reads answered); LCP is the browser's largest
// contentful paint. Medians over --repeat cold page loads (a new page each time; the
// browser cache is warm for the app's own assets, as for anyone who opened it before).
// Interactions are also timed in the page as a user sees them (see `interaction` below):
// from the press to the first frame painted with the result on screen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DataApi, DataLayer, EventBus, InProcessQueue, openAndMigrate } from '@lathe/master';
import { buildApiApp } from '@lathe/master/http';
import { chromium, type Locator, type Page } from 'playwright-core';
import { linkChanges, seedHistory } from '../history-seed.ts';

const { values } = parseArgs({
  options: {
    builders: { type: 'string', default: '1000' },
    builds: { type: 'string', default: '1000000' },
    'log-mb': { type: 'string', default: '100' },
    repeat: { type: 'string', default: '5' },
    /** Measure only these (keys below), comma-separated; default every one. */
    only: { type: 'string' },
  },
});
const builders = Number(values.builders);
const builds = Number(values.builds);
const repeat = Number(values.repeat);
const only = values.only ? new Set(values.only.split(',')) : undefined;
const measured = (key: string) => !only || only.has(key);
const CHROMIUM = process.env.LATHE_CHROMIUM ?? '/usr/bin/chromium';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'lathe-bench-www-'));
const file = join(dir, 'bench.sqlite');
let t = Date.now();
await seedHistory(file, builders, builds);
linkChanges(file);
console.error(`seeded ${builders} builders, ${builds} builds (with their changes) in ${Date.now() - t} ms`);

const db = await openAndMigrate({ url: `sqlite:${file}` });
const data = new DataLayer(db, new EventBus());

// One step with a LOG_MB log on the newest build of builder 1, written as a worker's
// output would be (stdio lines with their stream letter), in 1 MB appends.
t = Date.now();
const lastOfBuilder1 = (await data.builds.latestForBuilder(1, 1))[0]!;
const { stepid } = await data.steps.add(lastOfBuilder1.id, 'spew');
const logid = await data.logs.add(stepid, 'stdio', 's');
const line = (n: number) => `oline ${n} of a very large log, padded to about sixty-four bytes....\n`;
const logLines = Math.floor((Number(values['log-mb']) * 1024 * 1024) / line(1_000_000).length);
for (let n = 1; n <= logLines; ) {
  let chunk = '';
  while (chunk.length < 1024 * 1024 && n <= logLines) chunk += line(n++);
  await data.logs.append(logid, chunk);
}
await data.logs.finish(logid);
console.error(`wrote a ${values['log-mb']} MB log (${logLines} lines) in ${Date.now() - t} ms`);

const app = await buildApiApp({
  api: new DataApi(data),
  queue: new InProcessQueue(),
  webApp: { baseURL: 'http://127.0.0.1/' },
});
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/`;
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });

// Largest contentful paint, as the page saw it.
await context.addInitScript(() => {
  (window as unknown as { __lcp: number }).__lcp = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) (window as unknown as { __lcp: number }).__lcp = e.startTime;
  }).observe({ type: 'largest-contentful-paint', buffered: true });
});

async function load(path: string, ready: string): Promise<{ content: number; lcp: number; page: Page }> {
  const page = await context.newPage();
  await page.goto(`${base}${path}`);
  await page.locator(ready).first().waitFor({ timeout: 60_000 });
  const content = await page.evaluate(() => performance.now());
  await page.waitForTimeout(100);
  const lcp = await page.evaluate(() => (window as unknown as { __lcp: number }).__lcp);
  return { content, lcp, page };
}

const mid = Math.ceil(builders / 2);
const pages: [string, string, string, string][] = [
  ['home', 'home', '', 'h2#failures-h ~ table tr'],
  [
    'builders',
    'builders (every builder, its last build)',
    'builders',
    `tr[data-builder="builder-${builders}"] .result`,
  ],
  [
    'builder',
    `builder page (builder-${mid}, 25 newest of its builds)`,
    `builders/${mid}`,
    '[data-testid="builder-history"] tbody tr',
  ],
  ['build', 'build page', `builders/1/builds/${lastOfBuilder1.number}`, 'li[data-step="spew"]'],
  ['waterfall', 'waterfall (60 builders × 25 builds)', 'waterfall', '.wf-build'],
  ['console', 'console (25 changes × every builder)', 'console', '[data-testid="console"] tbody tr .chip'],
  ['grid', 'grid', 'grid', '.chip'],
];

// The pages measured after others find the app's assets in the browser's cache (the
// header); with --only, one unmeasured load of the home page warms it the same way.
if (only) await (await load('', 'h2#failures-h ~ table tr')).page.close();

const rows: string[] = [];
for (const [key, name, path, ready] of pages) {
  if (!measured(key)) continue;
  const content: number[] = [];
  const lcp: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const r = await load(path, ready);
    content.push(r.content);
    lcp.push(r.lcp);
    await r.page.close();
  }
  rows.push(`| ${name} | ${median(content).toFixed(0)} ms | ${median(lcp).toFixed(0)} ms |`);
  console.error(rows.at(-1));
}

// Interaction: from the builders page to a builder's history, in the app (no page load).
const clicks: number[] = [];
for (let i = 0; i < (measured('click') ? repeat : 0); i++) {
  const { page } = await load('builders', `tr[data-builder="builder-${mid}"] a`);
  const t0 = await page.evaluate(() => performance.now());
  await page.locator(`tr[data-builder="builder-${mid}"] td:first-child a`).click();
  await page.locator('[data-testid="builder-history"] tbody tr').first().waitFor();
  clicks.push((await page.evaluate(() => performance.now())) - t0);
  await page.close();
}

/**
 * One interaction as its user sees it, timed in the page: from the press (the pointerdown's
 * timestamp, where the Event Timing API starts an interaction) to the end of the first
 * frame painted once an element matching `shown` (absent before) is in the page: its
 * requestAnimationFrame callback runs before that frame's style, layout and paint, and a
 * task queued there runs after them. Playwright's own round trips (actionability checks,
 * selector polling) happen before the press or after the result, never inside it.
 */
async function interaction(page: Page, target: Locator, shown: string): Promise<number> {
  await target.waitFor();
  await page.evaluate((shown) => {
    const w = window as unknown as { __interaction?: number };
    delete w.__interaction;
    let pressed: number | undefined;
    addEventListener('pointerdown', (e) => (pressed ??= e.timeStamp), { capture: true });
    new MutationObserver((_records, self) => {
      if (pressed === undefined || !document.querySelector(shown)) return;
      self.disconnect();
      const at = pressed;
      requestAnimationFrame(() => setTimeout(() => (w.__interaction = performance.now() - at)));
    }).observe(document, { childList: true, subtree: true, characterData: true });
  }, shown);
  await target.click();
  const done = await page.waitForFunction(
    () => (window as unknown as { __interaction?: number }).__interaction,
    {
      timeout: 60_000,
    },
  );
  return (await done.jsonValue()) as number;
}

// The same navigation as the user sees it: press → builder's history painted.
const clicksSeen: number[] = [];
for (let i = 0; i < (measured('click') ? repeat : 0); i++) {
  const { page } = await load('builders', `tr[data-builder="builder-${mid}"] a`);
  clicksSeen.push(
    await interaction(
      page,
      page.locator(`tr[data-builder="builder-${mid}"] td:first-child a`),
      '[data-testid="builder-history"] tbody tr',
    ),
  );
  await page.close();
}

// On the builder page: "older →", the next 25 builds (keyset paging, in the app).
const pagings: number[] = [];
for (let i = 0; i < (measured('paging') ? repeat : 0); i++) {
  const { page } = await load(`builders/${mid}`, '[data-testid="builder-history"] tbody tr');
  const oldest = await page
    .locator('[data-testid="builder-history"] tbody tr:last-child a')
    .first()
    .textContent();
  const next = Number(oldest?.replace('#', '')) - 1;
  pagings.push(
    await interaction(
      page,
      page.getByRole('link', { name: 'older →' }),
      `[data-testid="builder-history"] tbody tr:first-child a[href$="/builds/${next}"]`,
    ),
  );
  await page.close();
}

// On the console: a build's cell → its blamelist (read on click) on screen.
const blames: number[] = [];
for (let i = 0; i < (measured('blamelist') ? repeat : 0); i++) {
  const { page } = await load('console', '[data-testid="console"] tbody tr .chip');
  blames.push(
    await interaction(
      page,
      page.locator('[data-testid="console"] tbody tr:first-child .chip').first(),
      '[role="dialog"] .blamelist li',
    ),
  );
  await page.close();
}

// The 100 MB log: first lines on open, then the end, and the page's JS heap.
const logFirst: number[] = [];
const logLast: number[] = [];
const heaps: number[] = [];
for (let i = 0; i < (measured('log') ? repeat : 0); i++) {
  const { page, content } = await load(`logs/${logid}`, '.line .text >> text=/^line 1 of a very/');
  logFirst.push(content);
  const t0 = await page.evaluate(() => performance.now());
  await page.getByRole('button', { name: 'End' }).click();
  await page.getByText(`line ${logLines} of a very large log`).waitFor();
  logLast.push((await page.evaluate(() => performance.now())) - t0);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  heaps.push((metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0) / 1024 / 1024);
  await page.close();
}

console.log(
  `| page (${builders} builders, ${builds} builds, SQLite) | content on screen (median) | LCP (median) |`,
);
console.log('| --- | ---: | ---: |');
for (const r of rows) console.log(r);
if (measured('click')) {
  console.log(`| builders → builder page, in-app click | ${median(clicks).toFixed(0)} ms | |`);
  console.log(`| builders → builder page, press → history painted | ${median(clicksSeen).toFixed(0)} ms | |`);
}
if (measured('paging'))
  console.log(
    `| builder page: older → (next 25 builds), press → painted | ${median(pagings).toFixed(0)} ms | |`,
  );
if (measured('blamelist'))
  console.log(`| console: a build's cell → its blamelist painted | ${median(blames).toFixed(0)} ms | |`);
if (measured('log')) {
  console.log(`| ${values['log-mb']} MB log: first lines on open | ${median(logFirst).toFixed(0)} ms | |`);
  console.log(`| ${values['log-mb']} MB log: End → last line shown | ${median(logLast).toFixed(0)} ms | |`);
  console.log(`| ${values['log-mb']} MB log page: JS heap used | ${median(heaps).toFixed(1)} MB | |`);
}

await browser.close();
await app.close();
await db.close();
rmSync(dir, { recursive: true, force: true });
