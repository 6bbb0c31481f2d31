// Section markers of a log (`::group::`, `::endgroup::`, `--- `, `+++ ` at a line's start),
// recorded as the lines are appended so the log viewer gets a log's collapsible sections
// from one indexed read instead of searching the whole log on every open.
// `logs.sections_recorded` tells the logs written since (1) from older ones (0, the
// default), whose markers are not in the table and can only be found by a search.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function logSectionsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('logs')
        .addColumn('sections_recorded', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('log_section_markers')
        .addColumn('logid', 'integer', (c) => c.notNull().references('logs.id'))
        .addColumn('line', 'integer', (c) => c.notNull())
        // group, endgroup, folded (`--- `), unfolded (`+++ `)
        .addColumn('kind', 'varchar(10)', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('log_section_markers_pk', ['logid', 'line'])
        .execute();
    },
  };
}
