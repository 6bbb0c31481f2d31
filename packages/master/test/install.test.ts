// Installing Lathe outside the clone, and the environment a worker's builds get:
// - the @lathe/worker tarball (scripts/pack.mjs, first-party dependencies bundled) installed
//   with the system Node 20's npm into an empty prefix: the installed lathe-worker creates a
//   worker that connects to a Lathe master on Node 20 and runs a build;
// - a worker started through npm (`npm exec -- lathe-worker start`) gives its build steps
//   the environment without npm's additions (npm_* variables, node_modules/.bin on PATH);
// - `./dev install --prefix` (scripts/install.mjs) puts working lathe and lathe-worker
//   commands in prefix/bin that run on the Node.js installed with them.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAlive, readPid } from '@lathe/daemon';
import { createMaster } from '../src/cli/commands/create-master.js';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { SUCCESS } from '../src/results.js';
import { type WorkerRuntime, withWorkers } from '../src/runtime.js';
import { startMaster, tempDir } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const REPO_WORKER_CLI = join(ROOT, 'packages', 'worker', 'dist', 'src', 'cli.js');
// The machine's Node 20 (what a worker machine may have); the project's Node where there is none.
const SYSTEM_NODE = existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath;
const SYSTEM_PATH = `${dirname(SYSTEM_NODE)}:/usr/bin:/bin`;

const CONFIG = `import { buildFactory, defineConfig, shellCommand } from '@lathe/master';
export default defineConfig({
  workers: [{ name: 'installed', password: 'pw-1' }, { name: 'via-npm', password: 'pw-2' }],
  builders: [
    { name: 'on-installed', workerNames: ['installed'], factory: buildFactory(shellCommand({ name: 'env', command: 'env' })) },
    { name: 'on-npm', workerNames: ['via-npm'], factory: buildFactory(shellCommand({ name: 'env', command: 'env' })) },
  ],
  db: { url: 'sqlite:state.sqlite' },
});
`;

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string) {
  const r = spawnSync(cmd, args, { env, cwd, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

describe('lathe-worker installed from its tarball, and started through npm', () => {
  const tmp = tempDir('lathe-install-');
  const prefix = join(tmp.path, 'prefix');
  const installedDir = join(tmp.path, 'installed-worker');
  const npmDir = join(tmp.path, 'npm-worker');
  // What the user's shell would have: nothing of npm's, nothing of this test runner's.
  const userEnv = { HOME: tmp.path, PATH: `${join(prefix, 'bin')}:${SYSTEM_PATH}` };
  let rt: WorkerRuntime;
  let master: Master;

  before(async () => {
    // create-master links this @lathe/master into the directory, for the config to import.
    await createMaster(join(tmp.path, 'master'), { workerPort: 0 });
    writeFileSync(join(tmp.path, 'master', 'master.config.ts'), CONFIG);
    rt = withWorkers(
      { basedir: join(tmp.path, 'master'), name: 'install-test', onError: () => {} },
      { port: 0, host: '127.0.0.1', logger: { info: () => {}, warn: () => {} } },
    );
    master = await startMaster(rt.options);
  });

  after(async () => {
    for (const dir of [installedDir, npmDir]) {
      const pid = readPid(join(dir, 'worker.pid'));
      if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    await master?.stop();
    tmp.cleanup();
  });

  async function buildEnv(builder: string): Promise<Map<string, string>> {
    const { buildrequestid } = await forceBuild(master, { builder });
    const request = await waitForRequest(master, buildrequestid, 60_000);
    assert.equal(request.results, SUCCESS);
    const [build] = await master.data.builds.forRequest(buildrequestid);
    const [step] = await master.data.steps.forBuild(build!.id);
    const [log] = await master.data.logs.forStep(step!.id);
    const lines = await master.data.logs.stdioLines(log!.id, 0, log!.numLines - 1);
    const env = new Map<string, string>();
    for (const l of lines.filter((l) => l.stream === 'o')) {
      const eq = l.text.indexOf('=');
      if (eq > 0) env.set(l.text.slice(0, eq), l.text.slice(eq + 1));
    }
    return env;
  }

  it('installs with npm install -g from the tarball, runs on the system Node, connects and builds', async () => {
    const tarball = execFileSync(
      process.execPath,
      [join(ROOT, 'scripts', 'pack.mjs'), '--out', tmp.path, 'packages/worker'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    ).trim();
    assert.match(tarball, /lathe-worker-\d+\.\d+\.\d+\.tgz$/);
    const installed = run(
      'npm',
      ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball],
      {
        ...userEnv,
        npm_config_cache: join(tmp.path, 'npm-cache'),
      },
    );
    assert.equal(installed.code, 0, installed.out);
    // @lathe/pb came inside the tarball: an empty cache and --offline leave no other source.
    assert.ok(
      existsSync(join(prefix, 'lib', 'node_modules', '@lathe', 'worker', 'node_modules', '@lathe', 'pb')),
    );

    const help = run('lathe-worker', ['--help'], userEnv);
    assert.equal(help.code, 0, help.out);
    assert.match(help.stdout, /^Usage: lathe-worker <command>/);
    const port = rt.server.port;
    const created = run(
      'lathe-worker',
      ['create', installedDir, `127.0.0.1:${port}`, 'installed', 'pw-1'],
      userEnv,
    );
    assert.equal(created.code, 0, created.out);
    const started = run('lathe-worker', ['start', installedDir], userEnv);
    assert.equal(started.code, 0, started.out);
    assert.match(started.stdout, /connected to the master/);
    const log = readFileSync(join(installedDir, 'worker.log'), 'utf8');
    const nodeVersion = execFileSync(SYSTEM_NODE, ['--version'], { encoding: 'utf8' }).trim();
    assert.match(log, new RegExp(`Node\\.js ${nodeVersion.replaceAll('.', '\\.')}\\)`));

    const env = await buildEnv('on-installed');
    assert.equal(env.get('PATH'), userEnv.PATH);
    const stopped = run('lathe-worker', ['stop', installedDir], userEnv);
    assert.equal(stopped.code, 0, stopped.out);
  });

  it('a worker started with npm exec gives its builds the environment without npm’s additions', async () => {
    const created = run(
      process.execPath,
      [REPO_WORKER_CLI, 'create', npmDir, `127.0.0.1:${rt.server.port}`, 'via-npm', 'pw-2'],
      userEnv,
    );
    assert.equal(created.code, 0, created.out);
    // npm exec from inside the clone, as a user would run `npx lathe-worker`; the user's own
    // variables (even one named like npm's, in capitals) must reach the build.
    const shellEnv = {
      ...userEnv,
      PATH: `${dirname(process.execPath)}:${SYSTEM_PATH}`,
      NPM_TOKEN: 'users-own',
      MY_SETTING: 'kept',
    };
    const started = run('npm', ['exec', '--offline', '--', 'lathe-worker', 'start', npmDir], shellEnv, ROOT);
    assert.equal(started.code, 0, started.out);
    const env = await buildEnv('on-npm');
    const npmVars = [...env.keys()].filter((k) => /^npm_/.test(k) || k === 'INIT_CWD' || k === 'COLOR');
    assert.deepEqual(npmVars, []);
    assert.equal(env.get('NODE'), undefined);
    assert.equal(env.get('PATH'), shellEnv.PATH);
    assert.equal(env.get('NPM_TOKEN'), 'users-own');
    assert.equal(env.get('MY_SETTING'), 'kept');
    assert.equal(run(process.execPath, [REPO_WORKER_CLI, 'stop', npmDir], userEnv).code, 0);
  });
});

describe('./dev install', () => {
  const tmp = tempDir('lathe-dev-install-');
  after(() => tmp.cleanup());

  it('puts lathe and lathe-worker into prefix/bin, running on the Node.js installed with them', () => {
    const prefix = join(tmp.path, 'prefix');
    const r = run(process.execPath, [join(ROOT, 'scripts', 'install.mjs'), '--prefix', prefix], {
      ...process.env,
      PATH: `${dirname(process.execPath)}:${SYSTEM_PATH}`,
    });
    assert.equal(r.code, 0, r.out);
    assert.match(r.stdout, new RegExp(`installed lathe and lathe-worker into ${prefix}/bin`));
    // Run with nothing on PATH: the commands carry their own Node.js.
    const bare = { HOME: tmp.path, PATH: '/nonexistent' };
    const lathe = run(join(prefix, 'bin', 'lathe'), ['--version'], bare);
    assert.equal(lathe.code, 0, lathe.out);
    assert.equal(lathe.stdout.trim(), `lathe 0.1.0 (node ${process.version})`);
    const worker = run(join(prefix, 'bin', 'lathe-worker'), ['--version'], bare);
    assert.equal(worker.code, 0, worker.out);
    assert.equal(worker.stdout.trim(), '0.1.0');
    // Nothing points back into the clone.
    assert.doesNotMatch(readFileSync(join(prefix, 'bin', 'lathe'), 'utf8'), new RegExp(ROOT));
  });
});
