// A latent worker's life as the data API shows it (workers/latent/service.ts writes it on
// every change): one row per latent worker, its state, its last failed start and when it
// will be stopped for idling. Rows of workers no longer latent are deleted at reconfig.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function latentWorkerStatusMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('latent_workers')
        .addColumn('workerid', 'integer', (c) => c.primaryKey())
        // the master running (or last running) its instances
        .addColumn('masterid', 'integer', (c) => c.notNull())
        // stopped, starting, running, stopping
        .addColumn('state', 'varchar(20)', (c) => c.notNull())
        .addColumn('last_start_error', 'text')
        .addColumn('last_start_error_at', 'bigint')
        // reported missing after startAttempts failures in a row
        .addColumn('missing', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_start_at', 'bigint')
        .addColumn('idle_stop_at', 'bigint')
        .execute();
    },
  };
}
