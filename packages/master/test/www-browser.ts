// What the web UI's browser tests share: Debian's chromium driven by playwright-core, a
// real master with the data API and the app and a real Lathe worker, pages that fail the
// test on any page error, and logging in from the top bar.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ApiServer } from '../src/http/server.js';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { type WorkerRuntime, withWorkers } from '../src/runtime.js';
import { createWorker, type TestWorker, waitFor, workerAvailable } from './bbworker.js';
import { startMaster } from './helpers.js';

export const CHROMIUM = process.env.LATHE_CHROMIUM ?? '/usr/bin/chromium';
/** The master's index module, for a test's master.config.ts to import. */
export const latheIndexUrl = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
/** Screenshots, kept as CI artifacts. */
export const SHOTS = join(import.meta.dirname, '..', '..', '..', '..', 'test-results', 'www');

/** Why the browser tests cannot run here, or false when they can. */
export const browserTestsSkip =
  !(existsSync(CHROMIUM) && workerAvailable('lathe')) && `needs ${CHROMIUM} and the built worker`;

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** A page that fails the test on any uncaught error in the app. */
export async function openPage(browser: Browser): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  p.on('pageerror', (err) => assert.fail(`page error: ${err.message}`));
  return p;
}

/** Logs in from the top bar; the password is always `<user>-pw`. */
export async function logIn(p: Page, user: string): Promise<void> {
  await p.getByRole('button', { name: 'Log in' }).click();
  await p.getByLabel('user', { exact: true }).fill(user);
  await p.getByLabel('password').fill(`${user}-pw`);
  await p.getByRole('button', { name: 'Log in' }).click();
  await p.getByTestId('user').filter({ hasText: user }).waitFor();
}

export interface WwwMaster {
  readonly master: Master;
  readonly rt: WorkerRuntime;
  readonly worker: TestWorker;
  /** The app's root URL, with its trailing slash. */
  readonly base: string;
  stop(): Promise<void>;
}

/** A port nothing listens on now, for a master whose config must name its own URL. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A master from `configText` in `dir`/master serving the app (on `port`, default any free
 * one), with worker `w1` (password `pw-1`) attached; stopping a build goes to its build
 * runner.
 */
export async function startWwwMaster(
  dir: string,
  configText: string,
  name: string,
  port = 0,
): Promise<WwwMaster> {
  const masterDir = join(dir, 'master');
  mkdirSync(masterDir, { recursive: true });
  writeFileSync(join(masterDir, 'master.config.ts'), configText);
  let rt: WorkerRuntime | undefined;
  const api = new ApiServer({
    port,
    stopBuild: (buildid, reason) => rt!.runner.stopBuild(buildid, reason),
  });
  rt = withWorkers(
    { basedir: masterDir, name, onError: () => {}, services: [api] },
    { port: 0, host: '127.0.0.1' },
  );
  const master = await startMaster(rt.options);
  const worker = createWorker('lathe', join(dir, 'worker'), 'w1', 'pw-1', rt.server.port);
  worker.start();
  await waitFor(() => master.workers.get('w1')!.connected, 20_000, 'the worker to attach');
  return {
    master,
    rt,
    worker,
    base: `http://127.0.0.1:${api.port}/`,
    async stop() {
      await worker.kill();
      await master.stop();
    },
  };
}

/** Forces a build of `builder`, waits for it, and returns its first step's `stdio` log row. */
export async function stdioOfForcedBuild(master: Master, builder: string) {
  const { buildrequestid } = await forceBuild(master, { builder });
  await waitForRequest(master, buildrequestid, 60_000);
  const [build] = await master.data.builds.forRequest(buildrequestid);
  const [step] = await master.data.steps.forBuild(build!.id);
  return (await master.data.logs.forStep(step!.id)).find((l) => l.name === 'stdio')!;
}
