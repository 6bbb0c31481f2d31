// A Kysely driver for Node's built-in `node:sqlite`, so the master needs no native addon.
//
// node:sqlite is synchronous. SQLite's own busy handler would block the whole event loop
// while another writer holds the lock — and if that writer is another connection in this
// same process (several data layers on one file, as the contention tests do), it could never
// finish, so the wait would always run into the timeout. We therefore set SQLite's
// busy_timeout to 0 and retry SQLITE_BUSY asynchronously, yielding to the event loop between
// attempts, up to `busyTimeoutMs` in total.
import { chmodSync, closeSync, openSync, statSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { DatabaseBusyError, DiskFullError, isSqliteFull } from './errors.js';

export interface NodeSqliteOptions {
  /** File name, or ':memory:'. */
  readonly filename: string;
  /** Total time to keep retrying a statement that finds the database locked. */
  readonly busyTimeoutMs?: number;
}

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

function isBusy(err: unknown): boolean {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  if (typeof code !== 'number') return false;
  const primary = code & 0xff;
  return primary === SQLITE_BUSY || primary === SQLITE_LOCKED;
}

// Bounded so a long-running master with many distinct ad-hoc queries cannot grow it forever.
const STATEMENT_CACHE_SIZE = 200;

class NodeSqliteConnection implements DatabaseConnection {
  readonly #db: DatabaseSync;
  readonly #busyTimeoutMs: number;
  readonly #statements = new Map<string, StatementSync>();
  inTransaction = false;

  constructor(
    db: DatabaseSync,
    busyTimeoutMs: number,
    readonly filename: string,
  ) {
    this.#db = db;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  /** Whether SQLite has a transaction open (it rolls one back by itself on SQLITE_FULL). */
  get sqliteInTransaction(): boolean {
    return this.#db.isTransaction;
  }

  /** Names a full disk as such, with the database's path; other errors pass unchanged. */
  diskFull(err: unknown, statement: string): unknown {
    return isSqliteFull(err) ? new DiskFullError(this.filename, statement, err) : err;
  }

  #prepare(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (stmt) {
      // Re-insert to keep the map in least-recently-used order.
      this.#statements.delete(sql);
    } else {
      stmt = this.#db.prepare(sql);
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.#statements.keys().next().value;
        if (oldest !== undefined) this.#statements.delete(oldest);
      }
    }
    this.#statements.set(sql, stmt);
    return stmt;
  }

  #runOnce<R>(compiled: CompiledQuery): QueryResult<R> {
    const stmt = this.#prepare(compiled.sql);
    const params = compiled.parameters as never[];
    if (stmt.columns().length > 0) {
      return { rows: stmt.all(...params) as R[] };
    }
    const { changes, lastInsertRowid } = stmt.run(...params);
    return {
      numAffectedRows: BigInt(changes),
      insertId: BigInt(lastInsertRowid),
      rows: [],
    };
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.retryBusy(() => this.#runOnce<R>(compiled), compiled.sql);
    } catch (err) {
      throw this.diskFull(err, compiled.sql);
    }
  }

  /**
   * Runs `fn`, retrying while the database is locked by another connection. Inside an
   * open transaction we already hold the write lock (BEGIN IMMEDIATE), so BUSY there means
   * something unexpected and is reported at once rather than retried.
   */
  async retryBusy<T>(fn: () => T, what: string): Promise<T> {
    const deadline = Date.now() + this.#busyTimeoutMs;
    let delay = 1;
    for (;;) {
      try {
        return fn();
      } catch (err) {
        if (!isBusy(err) || this.inTransaction) throw err;
        if (Date.now() >= deadline) throw new DatabaseBusyError(what, this.#busyTimeoutMs, err);
        await sleep(delay);
        delay = Math.min(delay * 2, 50);
      }
    }
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const stmt = this.#prepare(compiled.sql);
    for (const row of stmt.iterate(...(compiled.parameters as never[]))) {
      yield { rows: [row as R] };
    }
  }

  exec(sql: string): void {
    try {
      this.#db.exec(sql);
    } catch (err) {
      throw this.diskFull(err, sql);
    }
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
  }
}

class NodeSqliteDriver implements Driver {
  readonly #options: NodeSqliteOptions;
  #connection: NodeSqliteConnection | undefined;

  constructor(options: NodeSqliteOptions) {
    this.#options = options;
  }

  async init(): Promise<void> {
    makePrivate(this.#options.filename);
    const db = new DatabaseSync(this.#options.filename);
    const conn = new NodeSqliteConnection(db, this.#options.busyTimeoutMs ?? 10_000, this.#options.filename);
    // journal_mode=WAL needs a write lock the first time, so it may meet a busy database.
    await conn.retryBusy(() => db.exec('PRAGMA journal_mode = WAL'), 'PRAGMA journal_mode');
    db.exec('PRAGMA busy_timeout = 0');
    // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the
    // last transactions), which is the failure the master must survive.
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA foreign_keys = ON');
    this.#connection = conn;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    // Kysely's runtime driver serialises access (SqliteAdapter has no multiple connections).
    return this.#connection!;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const conn = connection as NodeSqliteConnection;
    // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    // writes can fail with BUSY_SNAPSHOT mid-way, which no statement retry can fix.
    await conn.retryBusy(() => conn.exec('BEGIN IMMEDIATE'), 'BEGIN IMMEDIATE');
    conn.inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const conn = connection as NodeSqliteConnection;
    conn.exec('COMMIT');
    conn.inTransaction = false;
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const conn = connection as NodeSqliteConnection;
    conn.inTransaction = false;
    // After SQLITE_FULL (and a few other errors) SQLite has already rolled back; a ROLLBACK
    // then fails with "no transaction is active" and would replace the error that matters.
    if (conn.sqliteInTransaction) conn.exec('ROLLBACK');
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    this.#connection?.close();
    this.#connection = undefined;
  }
}

/**
 * SQLite does run DDL inside transactions; saying so makes Kysely's Migrator apply each
 * run of migrations in one (IMMEDIATE) transaction, so two masters starting at once on a
 * fresh database cannot both create the schema.
 */
class NodeSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export class NodeSqliteDialect implements Dialect {
  readonly #options: NodeSqliteOptions;

  constructor(options: NodeSqliteOptions) {
    this.#options = options;
  }

  createDriver(): Driver {
    return new NodeSqliteDriver(this.#options);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new NodeSqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/**
 * The database holds build logs, properties and worker info: only the master's user may
 * read it. SQLite creates a new file 0644 (less the umask) and gives its -wal and -shm files
 * the database file's mode, so the file is made 0600 before SQLite opens it, and an
 * existing one (or its -wal/-shm) readable by others is narrowed.
 */
function makePrivate(filename: string): void {
  if (filename === ':memory:' || filename === '' || filename.startsWith('file:')) return;
  try {
    closeSync(openSync(filename, 'a', 0o600));
  } catch {
    return; // SQLite reports why it cannot open the file, as it always did
  }
  for (const file of [filename, `${filename}-wal`, `${filename}-shm`]) {
    let mode: number;
    try {
      mode = statSync(file).mode;
    } catch {
      continue; // not there (yet)
    }
    if (mode & 0o077) chmodSync(file, mode & 0o700);
  }
}
