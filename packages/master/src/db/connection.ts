// Opening the database named by a URL, and running the schema migrations.
import { isAbsolute, resolve } from 'node:path';
import { type CompiledQuery, type Dialect, Kysely, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { MigrationError, UnsupportedDatabaseUrlError } from './errors.js';
import { migrationProvider, type SqlDialectName } from './migrations/index.js';
import {
  isPostgresUrl,
  listenPostgres,
  postgresDialect,
  redactDatabaseUrl,
  type StopListening,
} from './postgres.js';
import type { Database } from './schema.js';
import { NodeSqliteDialect } from './sqlite-driver.js';

export const DEFAULT_DATABASE_URL = 'sqlite:state.sqlite';

export interface OpenDatabaseOptions {
  /**
   * `sqlite:<path>`, `sqlite://<abs path>`, `sqlite::memory:`, a plain file path, or
   * `postgres://user:password@host:port/database` (also `postgresql://`, and libpq's
   * `?host=/socket/dir`, `?sslmode=…` parameters).
   */
  readonly url?: string;
  /** Relative SQLite paths are resolved against this (the master directory). */
  readonly basedir?: string;
  readonly busyTimeoutMs?: number;
  /** Sees every statement sent, e.g. to log or EXPLAIN the master's queries. */
  readonly onQuery?: (query: CompiledQuery) => void;
}

export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: SqlDialectName;
  /** Where the data lives, for messages (a PostgreSQL URL without its password). */
  readonly location: string;
  /**
   * PostgreSQL only: LISTENs on `channel` on a connection of its own (postgres.ts
   * `listenPostgres`); SQLite has no notifications between processes.
   */
  readonly listen?: (
    channel: string,
    onNotify: (payload: string) => void,
    onLost: (err: Error) => void,
  ) => Promise<StopListening>;
  close(): Promise<void>;
}

export function sqlitePathFromUrl(url: string, basedir: string): string {
  let path: string;
  if (url.startsWith('sqlite://')) path = url.slice('sqlite://'.length);
  else if (url.startsWith('sqlite:')) path = url.slice('sqlite:'.length);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new UnsupportedDatabaseUrlError(url);
  else path = url;
  if (path === '') throw new UnsupportedDatabaseUrlError(url);
  if (path === ':memory:') return path;
  return isAbsolute(path) ? path : resolve(basedir, path);
}

/** Nothing connects yet: a server that cannot be reached fails the first query (DatabaseConnectError). */
export function openDatabase(options: OpenDatabaseOptions = {}): Db {
  const url = options.url ?? DEFAULT_DATABASE_URL;
  let dialect: Dialect;
  let name: SqlDialectName;
  let location: string;
  let listen: Db['listen'];
  if (isPostgresUrl(url)) {
    listen = (channel, onNotify, onLost) => listenPostgres(url, channel, onNotify, onLost);
    dialect = postgresDialect({ url });
    name = 'postgres';
    location = redactDatabaseUrl(url);
  } else {
    location = sqlitePathFromUrl(url, options.basedir ?? process.cwd());
    dialect = new NodeSqliteDialect({ filename: location, busyTimeoutMs: options.busyTimeoutMs ?? 10_000 });
    name = 'sqlite';
  }
  const kysely = new Kysely<Database>({
    dialect,
    ...(options.onQuery && {
      log: (e) => {
        if (e.level === 'query') options.onQuery!(e.query);
      },
    }),
  });
  return {
    kysely,
    dialect: name,
    location,
    ...(listen && { listen }),
    close: () => kysely.destroy(),
  };
}

/** Brings the schema up to date; what `lathe upgrade-master` runs. Returns applied names. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  // A server that cannot be reached says so itself, not as a failed migration.
  await sql`select 1`.execute(db.kysely);
  const migrator = new Migrator({ db: db.kysely, provider: migrationProvider(db.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new MigrationError(failed?.migrationName, error);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Opens and migrates: the usual way the master starts. */
export async function openAndMigrate(options: OpenDatabaseOptions = {}): Promise<Db> {
  const db = openDatabase(options);
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
