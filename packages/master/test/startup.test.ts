// Start-up on a large history (25,000 pending requests, 100,000 finished builds): the master
// must come up without reading any table that grows with history, so its start-up time does
// not grow with it. Checked on the plans of the exact statements start-up sends (how long it
// takes is measured by bench/master, not here). Seeded with raw SQL for speed.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { CompiledQuery } from 'kysely';
import { openAndMigrate, openDatabase } from '../src/db/connection.js';
import { startMaster, tempDir } from './helpers.js';
import { seedHistory } from './seed-history.js';

const PENDING = 25_000;
const FINISHED = 100_000;
const BUILDERS = 50;
// Tables whose size follows the history (one row or more per change, build, step, log…).
const HISTORY_TABLES =
  /\b(builds|buildrequests|buildsets|buildset_\w+|build_\w+|steps|logs|logchunks|changes|change_\w+|sourcestamps|patches)\b/;

describe('start-up with a large database', () => {
  const dir = tempDir('lathe-startup-');
  after(() => dir.cleanup());

  it(`starts with ${PENDING} pending requests and ${FINISHED} finished builds without scanning them`, async () => {
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

    const queries: CompiledQuery[] = [];
    const master = await startMaster({
      basedir: dir.path,
      name: 'big',
      // The plans checked below are SQLite's (EXPLAIN QUERY PLAN), whatever the test run's engine.
      dbUrl: `sqlite:${file}`,
      buildStarter: { startBuild: async () => {} },
      onQuery: (q) => queries.push(q),
    });
    const startup = queries.splice(0);
    assert.equal(await master.data.buildrequests.countPending(), PENDING);
    assert.equal(
      (await master.data.builds.latestForBuilder(master.builders.get('b7')!.builderid, 1))[0]?.number,
      FINISHED / BUILDERS,
    );
    await master.stop();

    const reads = startup.filter((q) => /^\s*(select|update|delete)\b/i.test(q.sql));
    assert.ok(reads.length > 0, 'start-up read the database');
    const db = openDatabase({ url: `sqlite:${file}` });
    try {
      for (const q of reads) {
        const { rows } = await db.kysely.executeQuery<{ detail: string }>({
          ...q,
          sql: `EXPLAIN QUERY PLAN ${q.sql}`,
        });
        for (const { detail } of rows)
          if (/^SCAN /.test(detail))
            assert.doesNotMatch(detail, HISTORY_TABLES, `start-up scans history: ${detail}\nin: ${q.sql}`);
      }
    } finally {
      await db.close();
    }
  });
});
