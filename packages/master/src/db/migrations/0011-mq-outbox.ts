// The cross-master message queue: every master appends the events it publishes, and the
// others read them in `id` order (the global sequence) to learn what happens elsewhere
// (cluster/outbox-relay.ts). Pruned by age.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DialectTypes } from './dialect.js';

export function mqOutboxMigration(t: DialectTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await t
        .id(db.schema.createTable('mq_outbox'))
        .addColumn('masterid', 'integer', (c) => c.notNull())
        .addColumn('kind', 'varchar(64)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('mq_outbox_created_at').on('mq_outbox').column('created_at').execute();
    },
  };
}
