// The start-up budget: 25,000 pending requests and 100,000 finished builds in the
// database, master up in under 2 s. Seeded with raw SQL for speed; start-up must not read
// whole tables, so its time should hardly depend on these numbers.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openAndMigrate } from '../src/db/connection.js';
import { Master } from '../src/master.js';
import { tempDir } from './helpers.js';

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
    seed(file);

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

function seed(file: string): void {
  const db = new DatabaseSync(file);
  db.exec('BEGIN');
  db.prepare("INSERT INTO masters (id, name, active, last_active) VALUES (1, 'old', 0, 0)").run();
  const builder = db.prepare("INSERT INTO builders (id, name, tags) VALUES (?, ?, '[]')");
  for (let b = 0; b < BUILDERS; b++) builder.run(b + 1, `b${b}`);
  db.prepare(
    "INSERT INTO sourcestamps (id, ss_hash, repository, codebase, project, created_at) VALUES (1, 'h', 'r', '', '', 0)",
  ).run();
  const buildset = db.prepare('INSERT INTO buildsets (id, submitted_at, complete) VALUES (?, ?, ?)');
  const bss = db.prepare('INSERT INTO buildset_sourcestamps (buildsetid, sourcestampid) VALUES (?, 1)');
  const request = db.prepare(
    'INSERT INTO buildrequests (id, buildsetid, builderid, priority, submitted_at, complete, results, claimed_by_master) VALUES (?, ?, ?, 0, ?, ?, ?, ?)',
  );
  const build = db.prepare(
    "INSERT INTO builds (number, builderid, buildrequestid, masterid, started_at, complete_at, state_string, results) VALUES (?, ?, ?, 1, ?, ?, 'build successful', 0)",
  );
  let id = 0;
  for (let i = 0; i < FINISHED + PENDING; i++) {
    id++;
    const done = i < FINISHED;
    const builderid = (i % BUILDERS) + 1;
    buildset.run(id, 1_700_000_000 + i, done ? 1 : 0);
    bss.run(id);
    request.run(id, id, builderid, 1_700_000_000 + i, done ? 1 : 0, done ? 0 : null, done ? 1 : null);
    if (done) build.run(Math.floor(i / BUILDERS) + 1, builderid, id, 1_700_000_000 + i, 1_700_000_100 + i);
  }
  db.exec('COMMIT');
  db.close();
}
