// What a step printed before its Lathe worker was killed is stored: the worker sends output
// within a second (its first line at once) instead of holding it back for up to 5 s.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { forceBuild } from '../src/process/control.js';
import { RETRY } from '../src/results.js';
import { waitFor, workerAvailable } from './bbworker.js';
import { tempDir } from './helpers.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

describe('a Lathe worker killed mid-step', { skip: !workerAvailable('lathe'), timeout: 120_000 }, () => {
  const tmp = tempDir('lathe-killed-output-');
  const workerDir = join(tmp.path, 'worker');
  let mw: MasterAndWorker;

  before(async () => {
    mw = await startMasterAndWorker({
      kind: 'lathe',
      masterDir: join(tmp.path, 'master'),
      workerDir,
      name: 'killed-output',
      quiet: true,
      configText: `import { buildFactory, defineConfig, shellCommand } from '${lathe}';
export default defineConfig({
  workerPort: 0,
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [{
    name: 'talker',
    workerNames: ['w1'],
    factory: buildFactory(shellCommand({ name: 'talk', command: 'touch started; i=0; while true; do i=$((i+1)); echo line $i; sleep 0.1; done' })),
  }],
});
`,
    });
  });
  after(async () => {
    await mw?.stop();
    tmp.cleanup();
  });

  it('keeps the lines the step printed before the kill', async () => {
    const { master, worker } = mw;
    const { buildrequestid } = await forceBuild(master, { builder: 'talker' });
    await waitFor(
      () => existsSync(join(workerDir, 'talker', 'build', 'started')),
      30_000,
      'the step to start',
    );
    // Two seconds of output (about 20 lines), then the worker dies without a word.
    await new Promise((r) => setTimeout(r, 2000));
    await worker.kill('SIGKILL');
    await waitFor(
      async () => (await master.data.builds.forRequest(buildrequestid))[0]?.results === RETRY,
      30_000,
      'the build to end RETRY',
    );
    const [build] = await master.data.builds.forRequest(buildrequestid);
    const [step] = (await master.data.steps.forBuild(build!.id)).filter((s) => s.name === 'talk');
    const [log] = (await master.data.logs.forStep(step!.id)).filter((l) => l.name === 'stdio');
    const row = await master.data.logs.get(log!.id);
    const lines = await master.data.logs.lines(log!.id, 0, Math.max(0, row!.numLines - 1));
    const printed = lines.filter((l) => /^oline \d+$/.test(l));
    assert.ok(printed.length >= 5, `only ${printed.length} output lines stored:\n${lines.join('\n')}`);
    assert.equal(printed[0], 'oline 1');
  });
});
