// Indexes the data API's collections need so that no read sorts a table that grows with
// history: a builder's build requests newest first (`/builders/:builderid/buildrequests`).
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function dataApiIndexesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createIndex('buildrequests_builderid')
        .on('buildrequests')
        .columns(['builderid', 'id'])
        .execute();
    },
  };
}
