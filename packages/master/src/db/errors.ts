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

export class UnsupportedDatabaseUrlError extends Error {
  override readonly name = 'UnsupportedDatabaseUrlError';
  constructor(readonly url: string) {
    super(`unsupported database URL ${JSON.stringify(url)}: expected sqlite:<path> or a file path`);
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
