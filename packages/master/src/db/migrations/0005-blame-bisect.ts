// Blamelists and bisection (issue 10). `buildset_changes` keeps every change a scheduler
// put into a buildset (its source stamps name only the newest). `blame_builds` holds one
// row per ordinary build with its branch, so "the last passing build of this builder and
// branch" is one index seek and the builds since it one index range, whatever the history.
// `bisections` records a bisection's verdict and evidence on the failing build.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DialectTypes } from './dialect.js';

export function blameBisectMigration(t: DialectTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const s = db.schema;
      await s
        .createTable('buildset_changes')
        .addColumn('buildsetid', 'integer', (c) => c.notNull().references('buildsets.id'))
        .addColumn('changeid', 'integer', (c) => c.notNull().references('changes.id'))
        .addPrimaryKeyConstraint('buildset_changes_pk', ['buildsetid', 'changeid'])
        .execute();

      await s
        .createTable('blame_builds')
        .addColumn('buildid', 'integer', (c) => c.primaryKey().references('builds.id'))
        .addColumn('builderid', 'integer', (c) => c.notNull().references('builders.id'))
        // The build's (codebase, branch) pairs as JSON: builds of other branches never blame each other.
        .addColumn('branch_key', 'text', (c) => c.notNull())
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('buildsetid', 'integer', (c) => c.notNull().references('buildsets.id'))
        .addColumn('passed', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await s
        .createIndex('blame_builds_range')
        .on('blame_builds')
        .columns(['builderid', 'branch_key', 'number'])
        .execute();
      await s
        .createIndex('blame_builds_passed')
        .on('blame_builds')
        .columns(['builderid', 'branch_key', 'passed', 'number'])
        .execute();

      await t
        .id(s.createTable('bisections'))
        .addColumn('buildid', 'integer', (c) => c.notNull().unique().references('builds.id'))
        .addColumn('builderid', 'integer', (c) => c.notNull().references('builders.id'))
        // running | found | inconclusive | interrupted
        .addColumn('state', 'varchar(20)', (c) => c.notNull())
        .addColumn('first_bad_changeid', 'integer', (c) => c.references('changes.id'))
        .addColumn('summary', 'text', (c) => c.notNull())
        // JSON: the ranked suspects and the builds run, with their results.
        .addColumn('suspects', 'text', (c) => c.notNull())
        .addColumn('evidence', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('complete_at', 'bigint')
        .execute();
    },
  };
}
