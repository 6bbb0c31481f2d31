// Changes stored but perhaps not yet seen by the schedulers. A row is written in the same
// transaction as its change, so a change acknowledged just before a crash is still offered
// to the schedulers when the master starts again (Master replays these rows).
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function unscheduledChangesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('unscheduled_changes')
        .addColumn('changeid', 'integer', (c) => c.primaryKey())
        .addColumn('stored_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('unscheduled_changes_stored_at')
        .on('unscheduled_changes')
        .column('stored_at')
        .execute();
    },
  };
}
