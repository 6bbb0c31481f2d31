// Latent workers in the configuration: they validate with their own settings (which a
// plain worker would have refused as unknown fields), bad settings are refused by name, a
// worker that becomes latent (or stops being) is a new service, and an unchanged latent
// worker is not "changed" by a reload.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffConfigs } from '../src/config/diff.js';
import { validateConfig } from '../src/config/validate.js';
import { commandLatentWorker } from '../src/workers/latent/command.js';
import { dockerLatentWorker } from '../src/workers/latent/docker.js';
import { LatentWorkerConfigError } from '../src/workers/latent/latent-worker.js';

const latent = () =>
  commandLatentWorker({ name: 'w1', password: 'pw', start: ['true'], stop: ['true'], buildWaitTimeout: 60 });

describe('latent workers in the config', () => {
  it('resolves a latent worker with its driver, and still refuses unknown fields on plain ones', () => {
    const config = validateConfig({ workers: [latent()] }, 'master.config.ts');
    assert.equal(config.workers[0]!.kind, 'latent');
    assert.equal(config.workers[0]!.latent?.buildWaitTimeout, 60);
    assert.throws(
      () =>
        validateConfig(
          { workers: [{ name: 'w1', password: 'pw', buildWaitTimeout: 60 }] },
          'master.config.ts',
        ),
      /buildWaitTimeout: unknown field/,
    );
  });

  it('refuses bad settings when the config is evaluated, naming the worker and the field', () => {
    assert.throws(
      () => commandLatentWorker({ name: 'w1', password: 'pw', start: ['true'] }),
      (err: unknown) =>
        err instanceof LatentWorkerConfigError &&
        /"w1": stop is required unless runsWorker/.test(err.message),
    );
    assert.throws(
      () => commandLatentWorker({ name: 'w1', password: 'pw', start: [], stop: ['true'] }),
      /start must be a non-empty list of strings/,
    );
    assert.throws(
      () => dockerLatentWorker({ name: 'c1', password: 'pw', image: 'x', startTimeout: 0 }),
      /startTimeout must be a number of seconds/,
    );
    assert.throws(
      () => dockerLatentWorker({ name: 'c1', password: 'pw', image: 'x', masterAddress: 'no-port' }),
      /masterAddress must be host:port/,
    );
  });

  it('makes a worker that turns latent a new service, and leaves an unchanged one alone', () => {
    const plain = validateConfig({ workers: [{ name: 'w1', password: 'pw' }] }, 'master.config.ts');
    const a = validateConfig({ workers: [latent()] }, 'master.config.ts');
    const b = validateConfig({ workers: [latent()] }, 'master.config.ts');
    const turned = diffConfigs(plain, a).workers;
    assert.deepEqual(
      [turned.removed.map((w) => w.name), turned.added.map((w) => w.name), turned.changed.length],
      [['w1'], ['w1'], 0],
    );
    assert.deepEqual(diffConfigs(a, b).workers.unchanged, ['w1']);
  });
});
