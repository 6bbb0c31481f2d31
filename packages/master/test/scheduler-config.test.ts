// Force, triggerable and dependent scheduler entries in master.config.ts: bad declarations
// are refused with the line that made them and the parameter they concern; a config
// without a force scheduler gets the implicit one, a config with one does not.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../src/config/errors.js';
import { loadConfig } from '../src/config/loader.js';
import { ChangeScheduler } from '../src/schedulers/change-scheduler.js';
import { ForceScheduler } from '../src/schedulers/force.js';
import { trigger } from '../src/steps/trigger.js';
import { startMaster, tempDir } from './helpers.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

describe('force, triggerable and dependent schedulers in the config', () => {
  const dir = tempDir('lathe-scheduler-config-');
  after(() => dir.cleanup());
  const configFile = join(dir.path, 'master.config.ts');
  const config = (
    schedulers: string,
  ) => `import { buildFactory, choiceParameter, defineConfig, dependentScheduler,
  forceScheduler, intParameter, nestedParameter, singleBranchScheduler, triggerableScheduler } from '${lathe}';
const step = { name: 'compile', async run() { return 0 as const; } };
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'b1', workerNames: ['w1'], factory: buildFactory(step) }, { name: 'b2', workerNames: ['w1'], factory: buildFactory(step) }],
  schedulers: [
${schedulers}
  ],
});
`;

  it('refuses bad declarations with their line and parameter', async () => {
    writeFileSync(
      configFile,
      config(`    forceScheduler({ name: 'f', builderNames: ['b1'], parameters: [
      choiceParameter({ name: 'target', choices: ['debug'], default: 'release' }),
      nestedParameter({ name: 'deploy', fields: [intParameter({ name: 'port', default: 2.5 })] }),
    ] }),
    triggerableScheduler({ name: 't', builderNames: [] }),
    dependentScheduler({ name: 'd', upstream: 'nowhere', builderNames: ['b2'] }),
    dependentScheduler({ name: 'd2', upstream: 'f', builderNames: ['b2'], cancelOldBuilds: true } as never),
    singleBranchScheduler({ name: 's', branch: 'main', builderNames: ['b1'], cancelOldBuilds: 'yes' } as never),`),
    );
    const err = await loadConfig(configFile).then(
      () => assert.fail('loaded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConfigError, String(err));
    assert.deepEqual(
      err.issues.map((i) => `${i.path} @${i.location?.line}: ${i.message}`),
      [
        'schedulers["f"].parameters @8: "target" has a default "release" that is not one of its choices',
        'schedulers["f"].parameters @8: "deploy.port" has a default that is not an integer',
        'schedulers["t"].builderNames @12: must list at least one builder',
        'schedulers["d"].upstream @13: names unknown scheduler "nowhere"',
        'schedulers["d2"].cancelOldBuilds @14: unknown field',
        'schedulers["s"].cancelOldBuilds @15: must be true or false',
      ],
    );
  });

  it('adds an implicit force scheduler for all builders only when none is declared', async () => {
    writeFileSync(
      configFile,
      config(`    singleBranchScheduler({ name: 'force', branch: 'main', builderNames: ['b1'] }),`),
    );
    const implicit = (await loadConfig(configFile)).config.schedulers.filter(
      (s) => s.kind === 'ForceScheduler',
    );
    assert.deepEqual(
      implicit.map((s) => [s.name, s.builderNames, 'implicit' in s && s.implicit]),
      [['force-2', ['b1', 'b2'], true]],
      'named apart from a scheduler that took "force"',
    );
    writeFileSync(configFile, config(`    forceScheduler({ name: 'mine', builderNames: ['b2'] }),`));
    const declared = (await loadConfig(configFile)).config.schedulers.filter(
      (s) => s.kind === 'ForceScheduler',
    );
    assert.deepEqual(
      declared.map((s) => [s.name, s.builderNames]),
      [['mine', ['b2']]],
    );
  });

  it('a reconfig that turns a scheduler into another kind replaces it', async () => {
    writeFileSync(
      configFile,
      config(`    singleBranchScheduler({ name: 's', branch: 'main', builderNames: ['b1'] }),`),
    );
    const master = await startMaster({ basedir: dir.path, name: 'kinds', onError: () => {} });
    try {
      assert.ok(master.schedulers.get('s') instanceof ChangeScheduler);
      writeFileSync(configFile, config(`    forceScheduler({ name: 's', builderNames: ['b1'] }),`));
      const r = await master.reconfig();
      assert.ok(r.ok, r.ok ? '' : String(r.error));
      // The implicit force scheduler goes too: the config now declares one.
      assert.deepEqual(
        [[...r.schedulers.removed].sort(), r.schedulers.added, r.schedulers.reconfigured],
        [['force', 's'], ['s'], []],
      );
      assert.ok(master.schedulers.get('s') instanceof ForceScheduler);
    } finally {
      await master.stop();
    }
  });

  it('a Trigger step names schedulers or builders, exactly one of them', () => {
    assert.throws(() => trigger({}), /schedulerNames/);
    assert.throws(() => trigger({ schedulerNames: ['t'], builderNames: ['b1'] }), /not both/);
    assert.equal(trigger({ schedulerNames: ['t'] }).name, 'trigger');
  });
});
