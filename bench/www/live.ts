// The web UI while builds run, in a real browser (Debian's chromium via playwright-core):
// what an open page costs while BUILDS builds stream their logs, and how soon a step the
// master stores appears on an open build page.
//
//   ./dev node bench/www/live.ts [--builds 50] [--seconds 20] [--samples 40]
//
// The server is the master's own HTTP app (data API, the bus-to-queue bridge, the web UI)
// over SQLite. Each running build appends a log line every 200 ms and moves to a new step
// every 5 s, written through the data layer as a build runner writes them.
//
// - CPU: Chromium's own accounting of every one of its processes (SystemInfo.getProcessInfo:
//   browser, GPU, renderers), summed, over --seconds with one page open, as a share of one
//   core; the same with about:blank open is the baseline, which the figure is given beside.
// - A finished step appears: the bench records Date.now() just before it finishes a step and
//   starts the next, and the page records Date.now() when a MutationObserver sees the new
//   step's element; both read the same system clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  bridgeBusToQueue,
  DataApi,
  DataLayer,
  EventBus,
  InProcessQueue,
  openAndMigrate,
  SUCCESS,
} from '@lathe/master';
import { buildApiApp } from '@lathe/master/http';
import { type Browser, chromium } from 'playwright-core';

const { values } = parseArgs({
  options: {
    builds: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    samples: { type: 'string', default: '40' },
  },
});
const BUILDS = Number(values.builds);
const SECONDS = Number(values.seconds);
const SAMPLES = Number(values.samples);
const CHROMIUM = process.env.LATHE_CHROMIUM ?? '/usr/bin/chromium';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
};

const dir = mkdtempSync(join(tmpdir(), 'lathe-bench-www-live-'));
const db = await openAndMigrate({ url: `sqlite:${join(dir, 'bench.sqlite')}` });
const bus = new EventBus();
const data = new DataLayer(db, bus);
const api = new DataApi(data);
const queue = new InProcessQueue({ history: 10_000 });
bridgeBusToQueue(bus, api, queue);
const app = await buildApiApp({ api, queue, log: () => {}, webApp: { baseURL: 'http://127.0.0.1/' } });
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/`;

// BUILDS builders, each with a few finished builds (so the waterfall has history) and one
// build running a step with a log.
const { masterid } = await data.masters.register('bench');
const ss = await data.sourcestamps.findOrCreate({ repository: 'r', codebase: '', project: '' });
interface RunningBuild {
  builderid: number;
  buildid: number;
  number: number;
  stepid: number;
  logid: number;
  steps: number;
}
const running: RunningBuild[] = [];
async function startBuild(builderid: number): Promise<{ buildid: number; number: number }> {
  const bs = await data.buildsets.add({ sourcestampids: [ss], builderids: [builderid] });
  const brid = bs.buildrequestids.get(builderid)!;
  await data.buildrequests.claim([brid], masterid);
  return data.builds.add({ builderid, buildrequestid: brid, masterid, workerid: null });
}
for (let i = 0; i < BUILDS; i++) {
  const builderid = await data.builders.findOrCreate(`builder-${String(i).padStart(2, '0')}`);
  for (let k = 0; k < 5; k++) {
    const { buildid } = await startBuild(builderid);
    await data.builds.finish(buildid, SUCCESS);
  }
  const { buildid, number } = await startBuild(builderid);
  const step = await data.steps.add(buildid, 'step-0');
  await data.steps.start(step.stepid);
  const logid = await data.logs.add(step.stepid, 'stdio', 's');
  running.push({ builderid, buildid, number, stepid: step.stepid, logid, steps: 1 });
}

/** Finishes a build's current step and starts the next, with its log; when it was written. */
async function nextStep(b: RunningBuild, name = `step-${b.steps}`): Promise<number> {
  const at = Date.now();
  await data.logs.finish(b.logid);
  await data.steps.finish(b.stepid, SUCCESS);
  const next = await data.steps.add(b.buildid, name);
  await data.steps.start(next.stepid);
  b.steps++;
  b.stepid = next.stepid;
  b.logid = await data.logs.add(next.stepid, 'stdio', 's');
  return at;
}

// The load: a log line every 200 ms and a new step every 5 s for every running build except
// the first, whose steps the latency probe moves on; spread over the period, not in bursts.
const timers: NodeJS.Timeout[] = [];
const written = { appends: 0, steps: 0 };
running.forEach((b, i) => {
  timers.push(
    setTimeout(
      () => {
        timers.push(
          setInterval(() => {
            void data.logs.append(b.logid, `oline ${Date.now()} of build ${b.buildid}\n`).then(() => {
              written.appends++;
            });
          }, 200),
        );
      },
      (i * 200) / running.length,
    ),
  );
  if (i === 0) return;
  timers.push(
    setTimeout(
      () => {
        timers.push(
          setInterval(() => {
            void nextStep(b).then(() => written.steps++);
          }, 5000),
        );
      },
      (i * 5000) / running.length,
    ),
  );
});

const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const cdp = await browser.newBrowserCDPSession();

/** Seconds of CPU every Chromium process has used so far. */
async function chromiumCpu(): Promise<number> {
  const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as {
    processInfo: { type: string; id: number; cpuTime: number }[];
  };
  return processInfo.reduce((sum, p) => sum + p.cpuTime, 0);
}

/** Chromium's CPU, all processes, over SECONDS with `url` open (settled), as a share of one core. */
async function cpuOver(url: string, ready: string): Promise<number> {
  const page = await context.newPage();
  await page.goto(url);
  await page.locator(ready).first().waitFor({ timeout: 60_000 });
  await page.waitForTimeout(2000); // the page's first reads done
  const before = await chromiumCpu();
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const share = ((await chromiumCpu()) - before) / ((performance.now() - t0) / 1000);
  await page.close();
  return share;
}

const probe = running[0]!;
const rows: string[] = [];
written.appends = 0;
written.steps = 0;
const loadStart = performance.now();

const waterfall = await cpuOver(`${base}waterfall`, '.wf-build');
const buildPage = await cpuOver(`${base}builders/${probe.builderid}/builds/${probe.number}`, 'li[data-step]');
// Last, so that nothing of the browser's start-up is counted in it.
const blank = await cpuOver('about:blank', 'body');
const loadSeconds = (performance.now() - loadStart) / 1000;

// A finished step on an open build page: SAMPLES times, the probe build moves to a new step.
const page = await context.newPage();
await page.goto(`${base}builders/${probe.builderid}/builds/${probe.number}`);
await page.locator('li[data-step]').first().waitFor({ timeout: 60_000 });
await page.waitForTimeout(1000);
const appear: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  const name = `probe-${i}`;
  const seen = page.evaluate(
    (name) =>
      new Promise<number>((resolve) => {
        const found = () => document.querySelector(`li[data-step="${name}"]`);
        const observer = new MutationObserver(() => {
          if (!found()) return;
          observer.disconnect();
          resolve(Date.now());
        });
        observer.observe(document.body, { childList: true, subtree: true, attributes: true });
      }),
    name,
  );
  await sleep(50); // the observer is in place
  const at = await nextStep(probe, name);
  appear.push((await seen) - at);
  await sleep(200);
}
await page.close();

rows.push(
  `| Chromium, about:blank open (baseline) | ${(blank * 100).toFixed(1)} % of a core |`,
  `| Chromium, waterfall open (${BUILDS} builders) | ${(waterfall * 100).toFixed(1)} % of a core |`,
  `| Chromium, a running build's page open | ${(buildPage * 100).toFixed(1)} % of a core |`,
  `| a step stored → shown on the open build page, p50 / p95 | ${percentile(appear, 50)} ms / ${percentile(appear, 95)} ms |`,
);
console.log(
  `| ${BUILDS} builds streaming (written: ${(written.appends / loadSeconds).toFixed(0)} log appends/s, ${(written.steps / loadSeconds).toFixed(1)} step changes/s) | |`,
);
console.log('| --- | ---: |');
for (const r of rows) console.log(r);

for (const t of timers) clearInterval(t);
await browser.close();
await app.close();
await db.close();
rmSync(dir, { recursive: true, force: true });
