// Errors of the database layer carry the context a log line or a test needs.

export class DatabaseBusyError extends Error {
  override readonly name = 'DatabaseBusyError';
  constructor(
    readonly statement: string,
    readonly waitedMs: number,
    cause: unknown,
  ) {
    super(`database stayed locked for ${waitedMs} ms while running: ${statement.slice(0, 200)}`, { cause });
  }
}

/**
 * The database could not be written because its disk is full (SQLITE_FULL, which SQLite
 * reports for ENOSPC). SQLite has rolled the transaction back; nothing half-written stays.
 * Writes work again once space is freed, so callers that must record something (a build's
 * end) wait and retry (`isDiskFull`).
 */
export class DiskFullError extends Error {
  override readonly name = 'DiskFullError';
  readonly code = 'SQLITE_FULL';
  constructor(
    readonly database: string,
    readonly statement: string,
    cause: unknown,
  ) {
    super(
      `disk full: cannot write the database ${database} (SQLITE_FULL) while running: ${statement.slice(0, 200)}`,
      {
        cause,
      },
    );
  }
}

const SQLITE_FULL = 13;

/** Whether `err` is node:sqlite's SQLITE_FULL ("database or disk is full"). */
export function isSqliteFull(err: unknown): boolean {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' && (code & 0xff) === SQLITE_FULL;
}

/** A DiskFullError anywhere in `err`'s cause chain. */
export function isDiskFull(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if (e instanceof DiskFullError) return true;
  return false;
}

export class UnsupportedDatabaseUrlError extends Error {
  override readonly name = 'UnsupportedDatabaseUrlError';
  constructor(readonly url: string) {
    super(
      `unsupported database URL ${JSON.stringify(url)}: expected sqlite:<path>, a file path or postgres://…`,
    );
  }
}

/** The database server could not be reached or refused us; `location` has no password. */
export class DatabaseConnectError extends Error {
  override readonly name = 'DatabaseConnectError';
  constructor(
    readonly location: string,
    readonly reason: string,
    cause: unknown,
  ) {
    super(`cannot connect to the database ${location}: ${reason}`, { cause });
  }
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly migration: string | undefined,
    cause: unknown,
  ) {
    super(
      `database migration ${migration ?? '(unknown)'} failed: ${String((cause as Error)?.message ?? cause)}`,
      {
        cause,
      },
    );
  }
}
