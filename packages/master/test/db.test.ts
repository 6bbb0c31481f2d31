import assert from 'node:assert/strict';
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { migrateToLatest, openDatabase, sqlitePathFromUrl } from '../src/db/connection.js';
import { UnsupportedDatabaseUrlError } from '../src/db/errors.js';
import { tempDir } from './helpers.js';

describe('database', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  it('resolves SQLite URLs against the master directory', () => {
    assert.equal(sqlitePathFromUrl('sqlite:state.sqlite', '/m'), '/m/state.sqlite');
    assert.equal(sqlitePathFromUrl('sqlite:///var/db.sqlite', '/m'), '/var/db.sqlite');
    assert.equal(sqlitePathFromUrl('sqlite::memory:', '/m'), ':memory:');
    assert.equal(sqlitePathFromUrl('rel/x.db', '/m'), '/m/rel/x.db');
    assert.throws(() => sqlitePathFromUrl('postgresql://h/db', '/m'), UnsupportedDatabaseUrlError);
  });

  it('keeps the database and its -wal/-shm files private (0600), also when they were not', async () => {
    const file = join(dir.path, 'private.sqlite');
    const fresh = openDatabase({ url: `sqlite:${file}` });
    await migrateToLatest(fresh);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
    await fresh.close();
    // A database an older master left readable by everyone is narrowed when opened.
    chmodSync(file, 0o644);
    const again = openDatabase({ url: `sqlite:${file}` });
    await migrateToLatest(again);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    await again.close();
  });

  it('creates the schema once, in WAL mode, and migrating again is a no-op', async () => {
    const file = join(dir.path, 'state.sqlite');
    const db = openDatabase({ url: `sqlite:${file}` });
    assert.deepEqual(await migrateToLatest(db), ['0001-initial', '0002-data-api-indexes']);
    assert.deepEqual(await migrateToLatest(db), []);
    await db.close();

    const raw = new DatabaseSync(file);
    const mode = raw.prepare('PRAGMA journal_mode').get() as { journal_mode: string };
    assert.equal(mode.journal_mode, 'wal');
    const tables = (
      raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
    ).map((r) => r.name);
    for (const t of [
      'masters',
      'workers',
      'builders',
      'changes',
      'change_files',
      'change_properties',
      'sourcestamps',
      'buildsets',
      'buildrequests',
      'builds',
      'steps',
      'logs',
      'logchunks',
      'build_properties',
      'build_metrics',
    ]) {
      assert.ok(tables.includes(t), `table ${t} exists`);
    }
    // The distributor's query must be answered from the index, without a sort step.
    const plan = raw
      .prepare(
        'EXPLAIN QUERY PLAN SELECT id FROM buildrequests WHERE builderid = 1 AND complete = 0 ' +
          'AND claimed_by_master IS NULL ORDER BY priority DESC, submitted_at ASC, id ASC LIMIT 10',
      )
      .all() as { detail: string }[];
    const details = plan.map((p) => p.detail).join('\n');
    assert.match(details, /buildrequests_pending/);
    assert.doesNotMatch(details, /TEMP B-TREE/);
    raw.close();
  });

  it('lets two masters migrate a fresh database at the same time', async () => {
    const file = join(dir.path, 'race.sqlite');
    const a = openDatabase({ url: `sqlite:${file}` });
    const b = openDatabase({ url: `sqlite:${file}` });
    const [ra, rb] = await Promise.all([migrateToLatest(a), migrateToLatest(b)]);
    assert.deepEqual(
      [...ra, ...rb],
      ['0001-initial', '0002-data-api-indexes'],
      'exactly one of them applied them',
    );
    await a.close();
    await b.close();
  });
});
