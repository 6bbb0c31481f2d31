// Workers on demand in containers, through a real Docker Engine API: Podman's API service
// (test/podman-engine.ts). A build request makes the master create and start a container
// that runs the built Lathe worker, the build runs in it, and once idle the container is
// stopped and removed; an image the engine lacks (with pull: 'never') fails the start with
// the engine's error, and the request keeps waiting.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { BusMessage } from '../src/bus/events.js';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { SUCCESS } from '../src/results.js';
import { withWorkers } from '../src/runtime.js';
import { DockerEngineClient } from '../src/workers/latent/docker-api.js';
import type { LatentWorkerService } from '../src/workers/latent/service.js';
import { waitFor, workerAvailable } from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';
import { type PodmanEngine, podmanAvailable, startPodmanEngine, TEST_IMAGE } from './podman-engine.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const REPO = join(import.meta.dirname, '..', '..', '..', '..');
const LATHE_WORKER = join(REPO, 'packages', 'worker', 'dist', 'src', 'cli.js');
const NODE = process.execPath;

function configText(socketPath: string): string {
  // What a worker image's entrypoint does: a worker directory from the environment, then
  // the worker in the foreground (the container lives as long as it does).
  const entry = `"${NODE}" "${LATHE_WORKER}" create --force /worker "$LATHE_MASTER" "$LATHE_WORKER_NAME" "$LATHE_WORKER_PASSWORD" >/dev/null && unset LATHE_WORKER_PASSWORD && exec "${NODE}" "${LATHE_WORKER}" start --nodaemon /worker`;
  const binds = ['/usr:/usr:ro', '/lib:/lib:ro', '/lib64:/lib64:ro', '/bin:/bin:ro', `${REPO}:${REPO}:ro`];
  if (!NODE.startsWith(REPO)) binds.push(`${dirname(NODE)}:${dirname(NODE)}:ro`);
  return `import { buildFactory, defineConfig, dockerLatentWorker, shellCommand } from '${lathe}';
export default defineConfig({
  workers: [
    dockerLatentWorker({
      name: 'c1', password: 'pw-c1', buildWaitTimeout: 1, startTimeout: 60,
      socketPath: ${JSON.stringify(socketPath)}, image: ${JSON.stringify(TEST_IMAGE)}, pull: 'never',
      cmd: ['/bin/sh', '-c', ${JSON.stringify(entry)}],
      labels: { purpose: 'lathe-test' },
      hostConfig: { NetworkMode: 'host', Binds: ${JSON.stringify(binds)} },
    }),
    dockerLatentWorker({
      name: 'c2', password: 'pw-c2', startAttempts: 1, missingRetryDelay: 3600,
      socketPath: ${JSON.stringify(socketPath)}, image: 'localhost/lathe-no-such-image:1', pull: 'never',
    }),
  ],
  builders: [
    { name: 'in-container', workerNames: ['c1'], factory: buildFactory(shellCommand({ name: 'where', command: 'test -d /worker && echo in the container' })) },
    { name: 'no-image', workerNames: ['c2'], factory: buildFactory(shellCommand({ name: 'never', command: 'true' })) },
  ],
});
`;
}

describe('container latent workers over the Docker Engine API (Podman)', {
  skip: !podmanAvailable() || !workerAvailable('lathe'),
}, () => {
  const dir = tempDir('lathe-latent-docker-');
  const events: BusMessage[] = [];
  let engine: PodmanEngine | undefined;
  let master: Master | undefined;
  let client: DockerEngineClient;

  before(async () => {
    engine = await startPodmanEngine();
    client = new DockerEngineClient({ socketPath: engine.socketPath });
    const masterDir = join(dir.path, 'master');
    mkdirSync(masterDir);
    writeFileSync(join(masterDir, 'master.config.ts'), configText(engine.socketPath));
    const rt = withWorkers(
      { basedir: masterDir, name: 'latent-docker', onError: () => {} },
      { port: 0, host: '127.0.0.1', logger: { info: () => {}, warn: () => {} } },
    );
    master = await startMaster(rt.options);
    master.bus.subscribe('worker.*', (m) => {
      events.push(m as BusMessage);
    });
  });

  after(async () => {
    await master?.stop();
    await engine?.stop();
    dir.cleanup();
  });

  const containers = () => client.containersWithLabel('org.lathe.worker=c1');

  it('runs a build in a container started for it, and removes the container once idle', async () => {
    const w = master!.workers.get('c1') as LatentWorkerService;
    assert.deepEqual(await containers(), []);
    const { buildrequestid } = await forceBuild(master!, { builder: 'in-container', reason: 'latent' });
    await waitFor(
      () => w.state === 'substantiated',
      60_000,
      'the container to start and its worker to connect',
    );
    const ids = await containers();
    assert.equal(ids.length, 1, 'one container, labelled with the worker name');
    const row = await waitForRequest(master!, buildrequestid, 60_000);
    assert.equal(row.results, SUCCESS);
    const [build] = await master!.data.builds.forRequest(buildrequestid);
    assert.equal(build!.workerid, w.workerid);
    // buildWaitTimeout 1 s: stopped and removed.
    await waitFor(
      async () => w.state === 'insubstantial' && (await containers()).length === 0,
      60_000,
      'the idle container to be removed',
    );
    assert.ok(!events.some((e) => e.kind === 'worker.start-failed'));
  });

  it('fails the start with the engine’s error when the image is missing, and the request waits', async () => {
    const { buildrequestid } = await forceBuild(master!, { builder: 'no-image', reason: 'latent' });
    await waitFor(() => events.some((e) => e.kind === 'worker.missing'), 30_000, 'worker.missing');
    const failed = events.find((e) => e.kind === 'worker.start-failed')!.payload as {
      error: string;
      name: string;
    };
    assert.equal(failed.name, 'c2');
    assert.match(failed.error, /Docker Engine API POST \/v1\.41\/containers\/create: 404 .*no such image/i);
    assert.equal((await master!.data.buildrequests.get(buildrequestid))!.complete, false);
  });
});
