// The few column types that differ between SQLite and PostgreSQL. Migrations take the
// dialect explicitly so that no SQLite-only DDL sneaks into the schema.
import type { ColumnDataType, CreateTableBuilder } from 'kysely';

export type SqlDialectName = 'sqlite' | 'postgres';

export interface DialectTypes {
  readonly name: SqlDialectName;
  readonly blob: ColumnDataType;
  /** Adds the surrogate primary key `id`. */
  id<T extends string>(table: CreateTableBuilder<T, never>): CreateTableBuilder<T, 'id'>;
}

export function dialectTypes(name: SqlDialectName): DialectTypes {
  if (name === 'postgres') {
    return {
      name,
      blob: 'bytea',
      id: (table) => table.addColumn('id', 'serial', (col) => col.primaryKey()),
    };
  }
  return {
    name,
    blob: 'blob',
    id: (table) => table.addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement()),
  };
}
