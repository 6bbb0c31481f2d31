import assert from 'node:assert/strict';
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { migrateToLatest, openDatabase, sqlitePathFromUrl } from '../src/db/connection.js';
import { DiskFullError, UnsupportedDatabaseUrlError } from '../src/db/errors.js';
import { MIGRATIONS, tempDir } from './helpers.js';

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

  it('names a full disk (SQLITE_FULL) with the database path, in and out of transactions', async () => {
    const file = join(dir.path, 'full.sqlite');
    const db = openDatabase({ url: `sqlite:${file}` });
    try {
      await sql`CREATE TABLE filler (x BLOB)`.execute(db.kysely);
      const { page_count } = (await sql<{ page_count: number }>`PRAGMA page_count`.execute(db.kysely))
        .rows[0]!;
      // A database that may not grow stands in for a disk that is full.
      await sql.raw(`PRAGMA max_page_count = ${page_count + 2}`).execute(db.kysely);
      const full = (err: unknown) => {
        assert.ok(err instanceof DiskFullError, String(err));
        assert.match(
          err.message,
          /^disk full: cannot write the database .*full\.sqlite \(SQLITE_FULL\) while running: INSERT/,
        );
        return true;
      };
      await assert.rejects(sql`INSERT INTO filler VALUES (randomblob(100000))`.execute(db.kysely), full);
      await assert.rejects(
        db.kysely.transaction().execute(async (tx) => {
          await sql`INSERT INTO filler VALUES (randomblob(10))`.execute(tx);
          await sql`INSERT INTO filler VALUES (randomblob(100000))`.execute(tx);
        }),
        full,
      );
      // Space again: writes work, and nothing of the failed transaction was kept.
      await sql.raw('PRAGMA max_page_count = 1000000').execute(db.kysely);
      await sql`INSERT INTO filler VALUES (randomblob(100000))`.execute(db.kysely);
      const { n } = (await sql<{ n: number }>`SELECT count(*) AS n FROM filler`.execute(db.kysely)).rows[0]!;
      assert.equal(n, 1);
    } finally {
      await db.close();
    }
  });

  it('creates the schema once, in WAL mode, and migrating again is a no-op', async () => {
    const file = join(dir.path, 'state.sqlite');
    const db = openDatabase({ url: `sqlite:${file}` });
    assert.deepEqual(await migrateToLatest(db), MIGRATIONS);
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
      'api_tokens',
      'scheduler_state',
      'change_source_state',
      'report_events',
      'reporter_state',
      'worker_presence',
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
    assert.deepEqual([...ra, ...rb], MIGRATIONS, 'exactly one of them applied them');
    await a.close();
    await b.close();
  });
});
