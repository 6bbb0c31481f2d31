// API tokens (bearer) that users create and revoke over the data API. Only a token's
// SHA-256 is stored: the token itself is shown once, when it is created.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DialectTypes } from './dialect.js';

export function apiTokensMigration(t: DialectTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await t
        .id(db.schema.createTable('api_tokens'))
        .addColumn('username', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
        // JSON array of role names: what the token may do, at most its user's roles.
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('api_tokens_username')
        .on('api_tokens')
        .columns(['username', 'id'])
        .execute();
    },
  };
}
