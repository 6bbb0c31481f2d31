import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { EventBus } from '../bus/bus.js';
import type { SqlDialectName } from '../db/migrations/dialect.js';
import type { Database } from '../db/schema.js';

/** What every part of the data layer shares. */
export interface DataContext {
  readonly db: Kysely<Database>;
  readonly bus: EventBus;
  /** Epoch seconds; injectable so tests can control time. */
  readonly now: () => number;
  /** Which engine answers; only for the few things SQL cannot say portably (db/README.md). */
  readonly dialect: SqlDialectName;
}

/**
 * Locks the rows a read-then-write transaction reads, so a concurrent one (another master)
 * waits for it instead of computing the same "next number": PostgreSQL's `FOR NO KEY
 * UPDATE` (which, unlike `FOR UPDATE`, does not hold up inserts of rows referencing the
 * locked one). SQLite needs none, its write transactions already exclude each other
 * (BEGIN IMMEDIATE).
 */
export function forUpdate<DB, TB extends keyof DB, O>(
  dialect: SqlDialectName,
  q: SelectQueryBuilder<DB, TB, O>,
): SelectQueryBuilder<DB, TB, O> {
  return dialect === 'postgres' ? q.forNoKeyUpdate() : q;
}

export function epochSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

// SQLite limits bound parameters per statement (PostgreSQL to 65535); keep IN lists well below it.
export const IN_LIST_MAX = 500;

export function* batches<T>(items: readonly T[], size = IN_LIST_MAX): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
