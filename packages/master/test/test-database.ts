// Which database engine the data-layer and end-to-end tests run on. By default SQLite
// files in the test's temporary directory; with LATHE_TEST_DB=postgres (the PostgreSQL
// pass of scripts/run-tests.mjs) a database on the server LATHE_TEST_POSTGRES_URL names,
// one per SQLite file the test would have used, so a test that reopens "its file" (a
// restart) finds its data again. Tests reach it through helpers.ts (openData, startMaster)
// and, for a master started with `lathe start`, useTestDatabase.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';

export const TEST_POSTGRES_URL = process.env.LATHE_TEST_POSTGRES_URL || undefined;
export const TEST_DB: 'sqlite' | 'postgres' =
  process.env.LATHE_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

const created = new Map<string, string>();

/** The URL of a database on the test server named `name`, created (empty) if missing. */
export async function postgresDatabase(name: string): Promise<string> {
  if (!TEST_POSTGRES_URL)
    throw new Error('LATHE_TEST_POSTGRES_URL is not set: run the tests through scripts/postgres-cluster.mjs');
  const known = created.get(name);
  if (known) return known;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  created.set(name, url.toString());
  return url.toString();
}

/** A fresh, empty database on the test server. */
export async function freshPostgresDatabase(label = 'fresh'): Promise<string> {
  return postgresDatabase(`lathe_${label}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`);
}

/** The URL a test's database at `sqliteFile` has on this run's engine. */
export async function testDatabaseUrl(sqliteFile: string): Promise<string> {
  if (TEST_DB === 'sqlite') return `sqlite:${sqliteFile}`;
  return postgresDatabase(
    `lathe_${createHash('sha1').update(resolve(sqliteFile)).digest('hex').slice(0, 24)}`,
  );
}

/** The `db.url` for the config of a test master in `basedir`: its state.sqlite, or that file's stand-in. */
export async function configDbUrl(basedir: string): Promise<string> {
  return TEST_DB === 'sqlite' ? 'sqlite:state.sqlite' : testDatabaseUrl(join(basedir, 'state.sqlite'));
}

/** MasterOptions for a master in `basedir` on this run's engine (nothing for SQLite: the config's). */
export async function masterDbOptions(basedir: string): Promise<{ dbUrl?: string }> {
  return TEST_DB === 'sqlite' ? {} : { dbUrl: await configDbUrl(basedir) };
}

/**
 * Points the config in `basedir`, which names the database as `lathe create-master`'s
 * template does, at configDbUrl: for masters the test starts with the real `lathe` command
 * (on SQLite the template's URL is already right).
 */
export async function useTestDatabase(basedir: string): Promise<void> {
  const file = join(basedir, 'master.config.ts');
  const text = readFileSync(file, 'utf8');
  const template = "db: { url: 'sqlite:state.sqlite' }";
  if (!text.includes(template))
    throw new Error(`${file} does not name the template's database (${template})`);
  writeFileSync(file, text.replace(template, `db: { url: ${JSON.stringify(await configDbUrl(basedir))} }`));
}
