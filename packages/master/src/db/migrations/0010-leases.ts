// Leases for what must run on exactly one of several masters sharing the database (a
// scheduler, a change source): one row per thing, held by a master until `expires_at`.
// Taken and renewed by conditional INSERT/UPDATE only, so it works the same on SQLite and
// PostgreSQL (data/leases.ts).
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function leasesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('leases')
        .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('masterid', 'integer', (c) => c.notNull())
        .addColumn('acquired_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('leases_masterid').on('leases').column('masterid').execute();
      // A master taking a scheduler over (or starting) asks whether a buildset already
      // built each recent change, folded ones included (ChangesData.hasBuildset).
      await db.schema
        .createIndex('buildset_changes_changeid')
        .on('buildset_changes')
        .column('changeid')
        .execute();
    },
  };
}
