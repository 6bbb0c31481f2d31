// Login sessions of the web UI and the data API, kept in the database so that a restart of
// the master, or another master serving the same UI, keeps people logged in. A row holds the
// SHA-256 of the session cookie, never the cookie.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function sessionsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('sessions')
        .addColumn('id_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('username', 'varchar(255)', (c) => c.notNull())
        .addColumn('csrf_token', 'varchar(64)', (c) => c.notNull())
        // JSON array of the roles an OIDC provider gave; null for the config's users.
        .addColumn('external_roles', 'text')
        .addColumn('expires_at', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();
    },
  };
}
