// What change sources must remember across a restart (a poller's last seen heads, so that
// commits pushed while the master was down still become changes): one JSON value per
// change source and key, like scheduler_state.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function changeSourceStateMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('change_source_state')
        .addColumn('source', 'varchar(255)', (c) => c.notNull())
        .addColumn('key', 'varchar(255)', (c) => c.notNull())
        .addColumn('value_json', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('change_source_state_pk', ['source', 'key'])
        .execute();
    },
  };
}
