// `lathe force` against a background master whose config declares a force scheduler with
// typed parameters: values given with -p (a nested group's as group.field) are checked by
// the master and stored typed; a bad one is refused with the parameter named, and a
// builder no force scheduler covers cannot be forced.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { alive, lathe } from './cli-helpers.js';
import { openData, tempDir } from './helpers.js';
import { useTestDatabase } from './test-database.js';

describe('lathe force through a declared force scheduler', () => {
  const tmp = tempDir('lathe-force-scheduler-');
  const dir = join(tmp.path, 'master');
  const file = join(dir, 'master.config.ts');

  before(async () => {
    const created = await lathe(['create-master', dir, '--worker-port', '0']);
    assert.equal(created.code, 0, created.stderr);
    const config = readFileSync(file, 'utf8')
      .replace(
        "import { buildFactory, defineBuilder, defineConfig, defineWorker, shellCommand } from '@lathe/master';",
        `import { buildFactory, defineBuilder, defineConfig, defineWorker, forceScheduler, intParameter,
  nestedParameter, shellCommand, stringParameter } from '@lathe/master';`,
      )
      .replace(
        '  db: {',
        `  schedulers: [
    forceScheduler({ name: 'release', builderNames: ['sample'], parameters: [
      intParameter({ name: 'jobs', min: 1 }),
      nestedParameter({ name: 'deploy', fields: [stringParameter({ name: 'host', required: true })] }),
    ] }),
  ],
  db: {`,
      );
    assert.match(config, /forceScheduler\(/);
    writeFileSync(file, config);
    await useTestDatabase(dir);
    const started = await lathe(['start', dir]);
    assert.equal(started.code, 0, started.stderr);
  });
  after(async () => {
    await lathe(['stop', dir]);
    const pidFile = join(dir, 'lathe.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    tmp.cleanup();
  });

  it('stores checked, typed parameters and refuses a bad one naming it', async () => {
    const ok = await lathe([
      'force',
      'sample',
      '--dir',
      dir,
      '--no-wait',
      '-s',
      'release',
      '-p',
      'jobs=4',
      '-p',
      'deploy.host=staging',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^buildset 1 submitted/m);

    const bad = await lathe([
      'force',
      'sample',
      '--dir',
      dir,
      '--no-wait',
      '-p',
      'jobs=lots',
      '-p',
      'deploy.host=h',
    ]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /the master refused: force scheduler "release": parameter "jobs" must be an integer, got "lots"/,
    );
    const undeclared = await lathe(['force', 'sample', '--dir', dir, '--no-wait', '-p', 'colour=blue']);
    assert.equal(undeclared.code, 1);
    assert.match(undeclared.stderr, /parameter "colour" is not declared \(parameters: jobs, deploy\)/);
    assert.match(undeclared.stderr, /parameter "deploy\.host" is required/);

    const db = await openData(join(dir, 'state.sqlite'));
    try {
      const props = await db.data.buildsets.properties(1);
      assert.deepEqual(props.jobs, [4, 'Force Build Form']);
      assert.deepEqual(props.deploy, [{ host: 'staging' }, 'Force Build Form']);
      assert.deepEqual(props.scheduler, ['release', 'Scheduler']);
      assert.equal(await db.data.buildsets.get(2), undefined, 'the refused forces added nothing');
    } finally {
      await db.close();
    }
  });
});
