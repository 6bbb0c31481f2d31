// The configured schedulers and change sources as the data API shows them (and as the
// masters sharing a database see each other's): one row per name, with who runs it and
// what it last did. Written by the masters (cluster/published-services.ts and the change
// sources' activity), read by api/resources/{schedulers,forceschedulers,changesources}.ts.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DialectTypes } from './dialect.js';

export function schedulerResourcesMigration(t: DialectTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await t
        .id(db.schema.createTable('schedulers'))
        .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
        .addColumn('kind', 'varchar(60)', (c) => c.notNull())
        // JSON array of builder names
        .addColumn('builder_names', 'text', (c) => c.notNull())
        // 1 while a master runs it
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
        // the master running it; null when none does, or every master does (called schedulers with `cluster`)
        .addColumn('masterid', 'integer')
        .addColumn('next_run_at', 'bigint')
        .addColumn('last_run_at', 'bigint')
        // force schedulers only: the form the web UI renders
        .addColumn('reason_required', 'integer')
        .addColumn('any_properties', 'integer')
        .addColumn('parameters', 'text')
        .execute();
      await db.schema.createIndex('schedulers_masterid').on('schedulers').column('masterid').execute();
      await t
        .id(db.schema.createTable('changesources'))
        .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
        .addColumn('kind', 'varchar(60)', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('masterid', 'integer')
        .addColumn('last_poll_at', 'bigint')
        .addColumn('last_change_at', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('last_error_at', 'bigint')
        .execute();
      await db.schema.createIndex('changesources_masterid').on('changesources').column('masterid').execute();
    },
  };
}
