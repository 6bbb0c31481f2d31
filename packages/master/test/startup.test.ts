// The start-up budget: 25,000 pending requests and 100,000 finished builds in the
// database, master up in under 2 s. Seeded with raw SQL for speed; start-up must not read
// whole tables, so its time should hardly depend on these numbers.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openAndMigrate } from '../src/db/connection.js';
import { Master } from '../src/master.js';
import { tempDir } from './helpers.js';
import { seedHistory } from './seed-history.js';

const PENDING = 25_000;
const FINISHED = 100_000;
const BUILDERS = 50;

describe('start-up with a large database', () => {
  const dir = tempDir('lathe-startup-');
  after(() => dir.cleanup());

  it(`starts in under 2 s with ${PENDING} pending requests and ${FINISHED} finished builds`, async (t) => {
    const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
    const builders = Array.from(
      { length: BUILDERS },
      (_, i) => `{ name: 'b${i}', workerNames: ['w'], factory: buildFactory() }`,
    );
    writeFileSync(
      join(dir.path, 'master.config.ts'),
      `import { defineConfig, buildFactory } from '${lathe}';
export default defineConfig({ workers: [{ name: 'w', password: 'pw' }], builders: [${builders.join(',')}] });\n`,
    );
    const file = join(dir.path, 'state.sqlite');
    await (await openAndMigrate({ url: `sqlite:${file}` })).close();
    seedHistory(file, { pending: PENDING, finished: FINISHED, builders: BUILDERS });

    const t0 = performance.now();
    const master = await Master.start({
      basedir: dir.path,
      name: 'big',
      buildStarter: { startBuild: async () => {} },
    });
    const elapsed = performance.now() - t0;
    t.diagnostic(`start-up took ${elapsed.toFixed(0)} ms`);
    assert.equal(await master.data.buildrequests.countPending(), PENDING);
    assert.equal(
      (await master.data.builds.latestForBuilder(master.builders.get('b7')!.builderid, 1))[0]?.number,
      FINISHED / BUILDERS,
    );
    await master.stop();
    assert.ok(elapsed < 2000, `start-up took ${elapsed.toFixed(0)} ms`);
  });
});
