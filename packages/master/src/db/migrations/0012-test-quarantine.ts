// Per-test history (issue 12, the Tests page). `tests` holds one row per test name a
// builder's Test steps reported, with what its list shows (last outcome, counts, the flaky
// state) kept current as runs arrive, and its quarantine (who muted it, when, why).
// `test_runs` holds one row per test per step run: a test's history is one index range on
// (testid, id), and "did it pass on this revision lately" one seek on (testid, revision).
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DialectTypes } from './dialect.js';

export function testQuarantineMigration(t: DialectTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const s = db.schema;
      await t
        .id(s.createTable('tests'))
        .addColumn('builderid', 'integer', (c) => c.notNull().references('builders.id'))
        .addColumn('name', 'varchar(500)', (c) => c.notNull())
        .addColumn('last_outcome', 'varchar(4)', (c) => c.notNull())
        .addColumn('last_buildid', 'integer', (c) => c.notNull().references('builds.id'))
        .addColumn('last_run_at', 'bigint', (c) => c.notNull())
        .addColumn('runs', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        // Failures contradicted by a pass of the same revision (only those count as flakes).
        .addColumn('flaky_failures', 'integer', (c) => c.notNull().defaultTo(0))
        // Set while flaky: 14 days after the last contradiction; NULL once cleared.
        .addColumn('flaky_until', 'bigint')
        .addColumn('passes_since_flaky', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('muted_by', 'varchar(255)')
        .addColumn('muted_at', 'bigint')
        .addColumn('muted_reason', 'text')
        .addUniqueConstraint('tests_builder_name', ['builderid', 'name'])
        .execute();
      await s.createIndex('tests_muted').on('tests').columns(['builderid', 'muted_at']).execute();

      await t
        .id(s.createTable('test_runs'))
        .addColumn('testid', 'integer', (c) => c.notNull().references('tests.id'))
        .addColumn('builderid', 'integer', (c) => c.notNull().references('builders.id'))
        .addColumn('buildid', 'integer', (c) => c.notNull().references('builds.id'))
        .addColumn('stepid', 'integer', (c) => c.notNull().references('steps.id'))
        // pass | fail | skip | todo
        .addColumn('outcome', 'varchar(4)', (c) => c.notNull())
        // The revision built (got_revision, else the source stamps'); NULL when unknown or patched.
        .addColumn('revision', 'varchar(1000)')
        .addColumn('recorded_at', 'bigint', (c) => c.notNull())
        .addColumn('contradicted', 'integer', (c) => c.notNull().defaultTo(0))
        // Quarantined when it ran: its failure did not fail the step.
        .addColumn('muted', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await s.createIndex('test_runs_history').on('test_runs').columns(['testid', 'id']).execute();
      await s
        .createIndex('test_runs_revision')
        .on('test_runs')
        .columns(['testid', 'revision', 'outcome', 'recorded_at'])
        .execute();
      await s
        .createIndex('test_runs_failures')
        .on('test_runs')
        .columns(['testid', 'outcome', 'id'])
        .execute();
      await s.createIndex('test_runs_build').on('test_runs').columns(['buildid']).execute();
    },
  };
}
