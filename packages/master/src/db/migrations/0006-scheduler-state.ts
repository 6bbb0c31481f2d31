// What schedulers must remember across a restart (last run of a timed scheduler, changes
// waiting for a stable tree, with their deadline): one JSON value per scheduler and key.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function schedulerStateMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('scheduler_state')
        .addColumn('scheduler', 'varchar(255)', (c) => c.notNull())
        .addColumn('key', 'varchar(255)', (c) => c.notNull())
        .addColumn('value_json', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('scheduler_state_pk', ['scheduler', 'key'])
        .execute();
    },
  };
}
