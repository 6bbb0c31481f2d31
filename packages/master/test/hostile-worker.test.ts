// A worker is not trusted. A hostile worker written with Debian's Twisted PB
// (test/hostile-worker.py) logs in with valid credentials and tries the two critical
// attacks on the master: worker info that poses as build properties (a `branch` that is
// shell syntax for a MasterShellCommand, a `dest` that climbs out of the master's
// directory for a FileUpload), and a DirectoryUpload that plants symlinks out of its
// destination in one build and writes through them in the next. Nothing may escape. Then
// the same steps with such values forced as real properties: data, never syntax or a way out.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { FAILURE, SUCCESS } from '../src/results.js';
import { type WorkerRuntime, withWorkers } from '../src/runtime.js';
import { waitFor } from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const HOSTILE = join(import.meta.dirname, '..', '..', 'test', 'hostile-worker.py');
const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const twisted = spawnSync(PYTHON, ['-c', 'import twisted.spread.pb'], { stdio: 'ignore' }).status === 0;

const config = `import { buildFactory, defineConfig, directoryUpload, fileUpload, interpolate, masterShellCommand, shellCommand } from '${lathe}';
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [{
    name: 'publish',
    workerNames: ['w1'],
    factory: buildFactory(
      shellCommand({ name: 'build', command: ['make'] }),
      masterShellCommand({ name: 'announce', command: interpolate('echo publishing %(prop:branch)s') }),
      fileUpload({ name: 'artifact', workersrc: 'out.bin', masterdest: interpolate('%(prop:dest:-uploads/out.bin)s') }),
      directoryUpload({ name: 'tree', workersrc: 'tree', masterdest: 'uploads/tree', compress: 'gz' }),
    ),
  }],
});
`;

describe('a hostile worker (Twisted PB) against the master', {
  skip: !twisted && 'no Twisted for /usr/bin/python3',
}, () => {
  const dir = tempDir('lathe-hostile-');
  const masterDir = join(dir.path, 'master');
  const outside = join(dir.path, 'outside');
  const warnings: string[] = [];
  let rt: WorkerRuntime;
  let master: Master;
  let worker: ChildProcess | undefined;

  before(async () => {
    mkdirSync(masterDir);
    mkdirSync(outside);
    writeFileSync(join(masterDir, 'master.config.ts'), config);
    rt = withWorkers(
      { basedir: masterDir, name: 'hostile-test', onError: () => {} },
      { port: 0, host: '127.0.0.1', logger: { info: () => {}, warn: (m) => warnings.push(m) } },
    );
    master = await startMaster(rt.options);
    worker = spawn(PYTHON, [HOSTILE, String(rt.server.port), 'w1', 'pw-1', outside], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await waitFor(() => master.workers.get('w1')!.connected, 20_000, 'the hostile worker to attach');
  });

  after(async () => {
    worker?.kill('SIGKILL');
    await master?.stop();
    dir.cleanup();
  });

  const build = async (spec: { branch?: string; properties?: Record<string, unknown> } = {}) => {
    const { buildrequestid } = await forceBuild(master, { builder: 'publish', ...spec });
    await waitForRequest(master, buildrequestid, 30_000);
    const [b] = await master.data.builds.forRequest(buildrequestid);
    const steps = await master.data.steps.forBuild(b!.id);
    return {
      id: b!.id,
      number: b!.number,
      results: Object.fromEntries(steps.map((s) => [s.name, s.results])),
      properties: await master.data.builds.properties(b!.id),
      stepid: (name: string) => steps.find((s) => s.name === name)!.id,
    };
  };

  const logText = async (stepid: number, name = 'stdio') => {
    const log = (await master.data.logs.forStep(stepid)).find((l) => l.name === name)!;
    const n = (await master.data.logs.get(log.id))!.numLines;
    return (await master.data.logs.lines(log.id, 0, n - 1)).join('\n');
  };

  it('cannot set build properties through its worker info, nor write through planted symlinks', async () => {
    const first = await build();
    const second = await build();
    assert.deepEqual(readdirSync(outside), [], 'nothing appeared outside the master directory');

    for (const b of [first, second]) {
      assert.equal(b.results.announce, SUCCESS);
      assert.equal(b.results.artifact, SUCCESS);
      // Worker info is not a build property; the build's own identity stands.
      assert.equal(b.properties.dest, undefined);
      assert.equal(b.properties.admin, undefined);
      assert.notEqual(b.properties.branch?.[1], 'Worker');
      assert.deepEqual(b.properties.buildnumber, [b.number, 'Build']);
      assert.deepEqual(b.properties.buildername, ['publish', 'Builder']);
      assert.deepEqual(b.properties.workername, ['w1', 'Worker']);
      assert.match(await logText(b.stepid('announce')), /^opublishing\s*$/m);
    }
    assert.ok(existsSync(join(masterDir, 'uploads', 'out.bin')), 'the upload went where the config says');
    // Worker info is still kept and shown as such.
    assert.equal((await master.data.workers.getByName('w1'))?.info.host, 'evil-host');

    const tree = join(masterDir, 'uploads', 'tree');
    assert.ok(!existsSync(join(tree, 'up')) || !lstatSync(join(tree, 'up')).isSymbolicLink());
    assert.ok(!lstatSync(join(tree, 'esc')).isSymbolicLink(), 'esc is a real directory');
    assert.match(await logText(first.stepid('tree')), /not extracted: esc -> .*absolute target/);

    // Every command's updates carried an unknown key: dropped, and said once.
    assert.deepEqual(
      warnings.filter((w) => w.includes('evil_key')),
      ['worker w1: dropped updates with unknown key "evil_key"'],
    );
  });

  it('gets property values as data: one shell word, and no master path out of the master directory', async () => {
    const b = await build({
      branch: `x; touch ${outside}/pwned-forced`,
      properties: { dest: `../outside/forced.bin` },
    });
    assert.deepEqual(readdirSync(outside), []);
    assert.equal(b.results.announce, SUCCESS);
    assert.match(
      await logText(b.stepid('announce')),
      new RegExp(`opublishing x; touch ${outside}/pwned-forced`),
    );
    assert.equal(b.results.artifact, FAILURE);
    assert.match(
      await logText(b.stepid('artifact')),
      /masterdest "..\/outside\/forced.bin" is rendered and leaves/,
    );
  });
});
