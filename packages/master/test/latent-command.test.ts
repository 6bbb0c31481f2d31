// Workers on demand with commandLatentWorker and real Lathe worker processes: a build
// request starts the worker (the start command launches `lathe-worker`), the build runs on
// it, and the worker is stopped once idle; a start command that keeps failing is retried,
// the request stays pending and the worker is reported missing; a worker that does not
// connect in time is abandoned and its command killed; a worker run in the foreground
// (runsWorker) is ended when the master stops.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DataApi } from '../src/api/data-api.js';
import { bridgeBusToQueue } from '../src/api/mq/bridge.js';
import { InProcessQueue } from '../src/api/mq/in-process.js';
import type { MqMessage } from '../src/api/mq/queue.js';
import type { BusMessage } from '../src/bus/events.js';
import { workerState } from '../src/control/worker-actions.js';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { SUCCESS } from '../src/results.js';
import { withWorkers } from '../src/runtime.js';
import type { LatentWorkerService } from '../src/workers/latent/service.js';
import { alive, waitFor, workerAvailable } from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const LATHE_WORKER = join(import.meta.dirname, '..', '..', '..', 'worker', 'dist', 'src', 'cli.js');
const NODE = process.execPath;
const SECRET = 'pw-latent-secret';

function configText(dir: string): string {
  const w1 = join(dir, 'w1');
  const w4 = join(dir, 'w4');
  // w1: the worker directory is made from the environment the master passes, then the
  // worker started in the background; `lathe-worker start` returns once it is connected.
  const w1Start = `"${NODE}" "${LATHE_WORKER}" create --force --keepalive 600 "${w1}" "$LATHE_MASTER" "$LATHE_WORKER_NAME" "$LATHE_WORKER_PASSWORD" >/dev/null && unset LATHE_WORKER_PASSWORD && exec "${NODE}" "${LATHE_WORKER}" start "${w1}"`;
  const w2Start = `echo x >> "${join(dir, 'w2-attempts')}"; echo "cannot boot with $LATHE_WORKER_PASSWORD" >&2; exit 3`;
  const w3Start = `echo $$ > "${join(dir, 'w3-pid')}"; exec sleep 60`;
  const w4Start = `echo $$ > "${join(dir, 'w4-pid')}"; exec "${NODE}" "${LATHE_WORKER}" start --nodaemon "${w4}"`;
  const builder = (name: string, worker: string) =>
    `{ name: '${name}', workerNames: ['${worker}'], factory: buildFactory(shellCommand({ name: 'hello', command: 'echo built on $HOSTNAME' })) }`;
  return `import { buildFactory, commandLatentWorker, defineConfig, shellCommand } from '${lathe}';
export default defineConfig({
  workers: [
    commandLatentWorker({
      name: 'w1', password: ${JSON.stringify(SECRET)}, buildWaitTimeout: 1,
      start: ['sh', '-c', ${JSON.stringify(w1Start)}],
      stop: [${JSON.stringify(NODE)}, ${JSON.stringify(LATHE_WORKER)}, 'stop', ${JSON.stringify(w1)}],
    }),
    commandLatentWorker({
      name: 'w2', password: ${JSON.stringify(SECRET)}, startAttempts: 2, retryDelay: 0.2, missingRetryDelay: 3600,
      start: ['sh', '-c', ${JSON.stringify(w2Start)}],
      stop: ['sh', '-c', 'echo x >> "${join(dir, 'w2-stops')}"'],
    }),
    commandLatentWorker({
      name: 'w3', password: 'pw-3', startTimeout: 0.5, startAttempts: 1, missingRetryDelay: 3600,
      start: ['sh', '-c', ${JSON.stringify(w3Start)}],
      stop: ['true'],
    }),
    commandLatentWorker({
      name: 'w4', password: 'pw-4', buildWaitTimeout: 3600, runsWorker: true,
      start: ['sh', '-c', ${JSON.stringify(w4Start)}],
    }),
  ],
  builders: [${builder('b1', 'w1')}, ${builder('b2', 'w2')}, ${builder('b3', 'w3')}, ${builder('b4', 'w4')}],
});
`;
}

describe('command latent workers', { skip: !workerAvailable('lathe') }, () => {
  const dir = tempDir('lathe-latent-');
  const events: BusMessage[] = [];
  const errors: string[] = [];
  /** What the data API's message queue published about workers, in order. */
  const apiEvents: MqMessage[] = [];
  let master: Master;
  let api: DataApi;

  before(async () => {
    const masterDir = join(dir.path, 'master');
    mkdirSync(masterDir);
    writeFileSync(join(masterDir, 'master.config.ts'), configText(dir.path));
    // w4 runs in the foreground from a directory made beforehand, as a machine image would have it.
    const { execFileSync } = await import('node:child_process');
    const rt = withWorkers(
      {
        basedir: masterDir,
        name: 'latent',
        onError: (err, ctx) => errors.push(`${ctx}: ${(err as Error).message}`),
      },
      { port: 0, host: '127.0.0.1', logger: { info: () => {}, warn: () => {} } },
    );
    master = await startMaster(rt.options);
    execFileSync(
      NODE,
      [
        LATHE_WORKER,
        'create',
        join(dir.path, 'w4'),
        `127.0.0.1:${master.workerPortAddress!.port}`,
        'w4',
        'pw-4',
      ],
      { stdio: 'ignore' },
    );
    master.bus.subscribe('worker.*', (m) => {
      events.push(m as BusMessage);
    });
    api = new DataApi(master.data);
    const queue = new InProcessQueue();
    bridgeBusToQueue(master.bus, api, queue);
    await queue.subscribe(['workers.*.*'], (m) => apiEvents.push(m));
  });

  after(async () => {
    await master?.stop();
    dir.cleanup();
  });

  const latent = (name: string) => master.workers.get(name) as LatentWorkerService;
  const ofWorker = (name: string, kind: string) =>
    events.filter((e) => e.kind === kind && (e.payload as { name?: string }).name === name);
  /** The worker resources the data API published for `name`. */
  const publishedFor = (name: string) =>
    apiEvents.flatMap((m) => (m.type === 'event' && m.resource.name === name ? [m.resource] : []));
  const apiWorker = async (name: string) =>
    ((await api.get(`/workers/${name}`)).workers as Record<string, unknown>[])[0]!;

  it('starts the worker for a request, runs the build on it, and stops it once idle', async () => {
    const w1 = latent('w1');
    assert.equal(w1.state, 'insubstantial');
    assert.equal(w1.connected, false);
    assert.equal((await apiWorker('w1')).latent_state, 'stopped', 'recorded when the worker was configured');
    const { buildrequestid } = await forceBuild(master, { builder: 'b1', reason: 'latent' });
    const pidFile = join(dir.path, 'w1', 'worker.pid');
    await waitFor(() => existsSync(pidFile), 30_000, 'the start command to launch the worker');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const row = await waitForRequest(master, buildrequestid, 60_000);
    assert.equal(row.results, SUCCESS);
    const [build] = await master.data.builds.forRequest(buildrequestid);
    assert.equal(build!.workerid, w1.workerid);
    // buildWaitTimeout is 1 s: the stop command ends the worker process.
    await waitFor(() => w1.state === 'insubstantial' && !alive(pid), 30_000, 'the idle worker to be stopped');
    assert.equal(w1.connected, false);
    assert.deepEqual(
      ofWorker('w1', 'worker.latent').map((e) => (e.payload as { state: string }).state),
      ['starting', 'substantiated', 'stopping', 'insubstantial'],
    );
    assert.deepEqual(ofWorker('w1', 'worker.start-failed'), []);
    // The data API shows each state, and published each change with the full resource.
    await master.bus.idle();
    const published = publishedFor('w1');
    const states = published.map((r) => r.latent_state).filter((s, i, all) => s !== all[i - 1]);
    assert.deepEqual(states, ['starting', 'running', 'stopping', 'stopped']);
    const idle = published.find((r) => r.latent_state === 'running' && r.idle_stop_at !== null);
    assert.ok(idle, 'the idle-stop time was published once the build ended');
    assert.ok(
      Math.abs((idle.idle_stop_at as number) - Date.now() / 1000) < 30,
      'about buildWaitTimeout (1 s) after the build',
    );
    assert.deepEqual(
      Object.keys(published.at(-1)!),
      Object.keys(api.type('workers').fields),
      'events carry the full resource',
    );
    const now = await apiWorker('w1');
    assert.equal(now.latent, true);
    assert.equal(now.latent_state, 'stopped');
    assert.equal(now.idle_stop_at, null);
    assert.equal(now.last_start_error, null);
  });

  it('retries a failing start command, keeps the request and reports the worker missing', async () => {
    const { buildrequestid } = await forceBuild(master, { builder: 'b2', reason: 'latent' });
    await waitFor(() => ofWorker('w2', 'worker.missing').length > 0, 30_000, 'worker.missing');
    const failed = ofWorker('w2', 'worker.start-failed').map((e) => e.payload as Record<string, unknown>);
    assert.deepEqual(
      failed.map((f) => [f.attempt, f.retryInSeconds]),
      [
        [1, 0.2],
        [2, null],
      ],
    );
    assert.match(String(failed[0]!.error), /start command "sh" exited with code 3: cannot boot with \*\*\*/);
    const missing = ofWorker('w2', 'worker.missing')[0]!.payload as Record<string, unknown>;
    assert.equal(missing.attempts, 2);
    assert.ok(!JSON.stringify(events).includes(SECRET), 'the password never reaches an event');
    assert.ok(!errors.join('\n').includes(SECRET), 'the password never reaches the error log');
    // No third attempt within missingRetryDelay, however often the distributor runs.
    master.distributor!.trigger();
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(readFileSync(join(dir.path, 'w2-attempts'), 'utf8'), 'x\nx\n');
    assert.equal(
      readFileSync(join(dir.path, 'w2-stops'), 'utf8'),
      'x\nx\n',
      'stop ran after each failed start',
    );
    const request = await master.data.buildrequests.get(buildrequestid);
    assert.equal(request!.complete, false, 'the request still waits');
    assert.equal(workerState(latent('w2')), 'missing');
    await master.bus.idle();
    const w2 = await apiWorker('w2');
    assert.equal(w2.latent_state, 'stopped');
    assert.equal(w2.missing, true);
    assert.match(String(w2.last_start_error), /exited with code 3: cannot boot with \*\*\*/);
    assert.ok(Math.abs((w2.last_start_error_at as number) - Date.now() / 1000) < 60);
    assert.ok((w2.next_start_at as number) > Date.now() / 1000 + 3000, 'missingRetryDelay is an hour');
    const failedEvent = publishedFor('w2').find((r) => r.last_start_error !== null);
    assert.ok(failedEvent, 'the failed start was published');
    assert.ok(!JSON.stringify(apiEvents).includes(SECRET), 'the password never reaches the API');
  });

  it('abandons a worker that does not connect within startTimeout and kills its command', async () => {
    const { buildrequestid } = await forceBuild(master, { builder: 'b3', reason: 'latent' });
    await waitFor(() => ofWorker('w3', 'worker.missing').length > 0, 30_000, 'the start to time out');
    const failed = ofWorker('w3', 'worker.start-failed')[0]!.payload as Record<string, unknown>;
    assert.match(String(failed.error), /did not connect within 0\.5 s/);
    const pid = Number(readFileSync(join(dir.path, 'w3-pid'), 'utf8'));
    await waitFor(() => !alive(pid), 5_000, 'the start command to be killed');
    assert.equal(latent('w3').state, 'insubstantial');
    assert.equal((await master.data.buildrequests.get(buildrequestid))!.complete, false);
  });

  it('runs a foreground worker (runsWorker) and ends it when the master stops', async () => {
    const { buildrequestid } = await forceBuild(master, { builder: 'b4', reason: 'latent' });
    const row = await waitForRequest(master, buildrequestid, 60_000);
    assert.equal(row.results, SUCCESS);
    const pid = Number(readFileSync(join(dir.path, 'w4-pid'), 'utf8'));
    assert.ok(alive(pid));
    assert.equal(latent('w4').state, 'substantiated', 'an hour of buildWaitTimeout keeps it');
    await master.stop();
    await waitFor(() => !alive(pid), 15_000, 'the worker process to end with the master');
  });
});
