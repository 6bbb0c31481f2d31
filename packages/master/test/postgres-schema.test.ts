// The schema is written once for SQLite and PostgreSQL (migrations/dialect.ts). Until the
// PostgreSQL issue brings a real server into the tests, this compiles every migration with
// Kysely's PostgreSQL compiler — the same DDL a PostgreSQL master would send — and checks
// that it names no SQLite-only type and creates the same tables and indexes as SQLite.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CompiledQuery,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { migrationProvider, type SqlDialectName } from '../src/db/migrations/index.js';

/** Every statement the migrations send, compiled for `dialect`, without a database. */
async function migrationSql(dialect: SqlDialectName): Promise<string[]> {
  const sent: CompiledQuery[] = [];
  const pg = dialect === 'postgres';
  const db = new Kysely<unknown>({
    dialect: {
      createAdapter: () => (pg ? new PostgresAdapter() : new SqliteAdapter()),
      createDriver: () => new DummyDriver(),
      createIntrospector: (k) => (pg ? new PostgresIntrospector(k) : new SqliteIntrospector(k)),
      createQueryCompiler: () => (pg ? new PostgresQueryCompiler() : new SqliteQueryCompiler()),
    },
    log: (e) => {
      if (e.level === 'query') sent.push(e.query);
    },
  });
  const migrations = await migrationProvider(dialect).getMigrations();
  for (const name of Object.keys(migrations).sort()) await migrations[name]!.up(db);
  await db.destroy();
  return sent.map((q) => q.sql);
}

const created = (sql: readonly string[], what: 'table' | 'index') =>
  sql
    .map((s) => new RegExp(`^create (?:unique )?${what} (?:if not exists )?"([^"]+)"`, 'i').exec(s)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();

describe('the schema for PostgreSQL', () => {
  it('compiles every migration with no SQLite-only type, creating what SQLite gets', async () => {
    const pg = await migrationSql('postgres');
    const lite = await migrationSql('sqlite');
    assert.ok(pg.length > 20, `${pg.length} statements`);
    for (const s of pg) {
      assert.doesNotMatch(s, /autoincrement|\bblob\b|without rowid|pragma/i, s);
    }
    assert.ok(pg.some((s) => /"id" serial primary key/.test(s)));
    assert.ok(
      pg.some((s) => /\bbytea\b/.test(s)),
      'log chunks as bytea',
    );
    assert.ok(
      lite.some((s) => /autoincrement/.test(s)),
      'the check above can see a SQLite-only word',
    );
    assert.deepEqual(created(pg, 'table'), created(lite, 'table'));
    assert.deepEqual(created(pg, 'index'), created(lite, 'index'));
    assert.ok(created(pg, 'index').includes('buildrequests_pending'));
  });
});
