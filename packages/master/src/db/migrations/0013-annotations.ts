// Annotations (issue 12): Markdown a step attaches to its build, shown on the build page.
// Stored as text (at most 1 MiB each); rendered, sanitised, only by the web UI.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DialectTypes } from './dialect.js';

export function annotationsMigration(t: DialectTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await t
        .id(db.schema.createTable('annotations'))
        .addColumn('buildid', 'integer', (c) => c.notNull().references('builds.id'))
        .addColumn('stepid', 'integer', (c) => c.notNull().references('steps.id'))
        .addColumn('title', 'varchar(255)', (c) => c.notNull())
        // info | success | warning | error
        .addColumn('style', 'varchar(10)', (c) => c.notNull())
        .addColumn('markdown', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('annotations_build').on('annotations').columns(['buildid', 'id']).execute();
    },
  };
}
