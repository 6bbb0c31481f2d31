// Reporters' durable state. `report_events` is an outbox: each report-worthy event (a build
// started or finished, a buildset completed, a worker missing) is written in the same
// transaction as the state change it announces, so a crash can never lose one. Each
// reporter keeps a cursor into it (`reporter_state`), advanced only after delivery.
// `worker_presence` remembers when each worker was last seen, across restarts, so that
// "missing for longer than missingTimeout" survives one.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DialectTypes } from './dialect.js';

export function reportersMigration(t: DialectTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await t
        .id(db.schema.createTable('report_events'))
        // build-started, build-finished, buildset-finished, worker-missing
        .addColumn('kind', 'varchar(40)', (c) => c.notNull())
        // buildid, buildsetid or workerid
        .addColumn('subject_id', 'integer', (c) => c.notNull())
        .addColumn('at', 'integer', (c) => c.notNull())
        // worker-missing: when the worker was last seen (JSON object); '{}' otherwise
        .addColumn('details', 'text', (c) => c.notNull())
        .execute();
      await t
        .id(db.schema.createTable('reporter_state'))
        .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
        // the last report_events.id fully handled (delivered or permanently refused)
        .addColumn('cursor', 'integer', (c) => c.notNull())
        .addColumn('delivered', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('last_error_at', 'integer')
        .addColumn('last_delivered_at', 'integer')
        .execute();
      await db.schema
        .createTable('worker_presence')
        .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('last_seen', 'integer', (c) => c.notNull())
        // 1 once the current absence was reported, so it is reported once
        .addColumn('reported', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  };
}
