// The initial schema. Indexes follow the queries the master and a UI run often: pending
// requests per builder by priority and age, latest builds per builder, builds by change,
// unfinished work of a master (crash recovery), log chunks by line.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DialectTypes } from './dialect.js';

export function initialMigration(t: DialectTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const s = db.schema;
      await t
        .id(s.createTable('masters'))
        .addColumn('name', 'varchar(150)', (c) => c.notNull().unique())
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('last_active', 'bigint', (c) => c.notNull())
        .execute();

      await t
        .id(s.createTable('workers'))
        .addColumn('name', 'varchar(50)', (c) => c.notNull().unique())
        .addColumn('info', 'text', (c) => c.notNull())
        .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('graceful', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();

      await t
        .id(s.createTable('builders'))
        .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
        .addColumn('description', 'text')
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('project', 'varchar(255)')
        .execute();

      await t
        .id(s.createTable('connected_workers'))
        .addColumn('masterid', 'integer', (c) => c.notNull().references('masters.id'))
        .addColumn('workerid', 'integer', (c) => c.notNull().references('workers.id'))
        .addUniqueConstraint('connected_workers_unique', ['masterid', 'workerid'])
        .execute();
      await s.createIndex('connected_workers_workerid').on('connected_workers').column('workerid').execute();

      await t
        .id(s.createTable('configured_workers'))
        .addColumn('builderid', 'integer', (c) => c.notNull().references('builders.id'))
        .addColumn('masterid', 'integer', (c) => c.notNull().references('masters.id'))
        .addColumn('workerid', 'integer', (c) => c.notNull().references('workers.id'))
        .addUniqueConstraint('configured_workers_unique', ['builderid', 'masterid', 'workerid'])
        .execute();
      await s
        .createIndex('configured_workers_workerid')
        .on('configured_workers')
        .column('workerid')
        .execute();

      await t
        .id(s.createTable('builder_masters'))
        .addColumn('builderid', 'integer', (c) => c.notNull().references('builders.id'))
        .addColumn('masterid', 'integer', (c) => c.notNull().references('masters.id'))
        .addUniqueConstraint('builder_masters_unique', ['builderid', 'masterid'])
        .execute();
      await s.createIndex('builder_masters_masterid').on('builder_masters').column('masterid').execute();

      await t
        .id(s.createTable('patches'))
        .addColumn('patchlevel', 'integer', (c) => c.notNull())
        .addColumn('patch_base64', 'text', (c) => c.notNull())
        .addColumn('patch_author', 'text')
        .addColumn('patch_comment', 'text')
        .addColumn('subdir', 'text')
        .execute();

      await t
        .id(s.createTable('sourcestamps'))
        .addColumn('ss_hash', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('branch', 'varchar(255)')
        .addColumn('revision', 'varchar(255)')
        .addColumn('patchid', 'integer', (c) => c.references('patches.id'))
        .addColumn('repository', 'varchar(512)', (c) => c.notNull())
        .addColumn('codebase', 'varchar(256)', (c) => c.notNull())
        .addColumn('project', 'varchar(512)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await t
        .id(s.createTable('changes'))
        .addColumn('author', 'varchar(255)', (c) => c.notNull())
        .addColumn('committer', 'varchar(255)')
        .addColumn('comments', 'text', (c) => c.notNull())
        .addColumn('branch', 'varchar(255)')
        .addColumn('revision', 'varchar(255)')
        .addColumn('revlink', 'varchar(256)')
        .addColumn('when_timestamp', 'bigint', (c) => c.notNull())
        .addColumn('category', 'varchar(255)')
        .addColumn('repository', 'varchar(512)', (c) => c.notNull())
        .addColumn('codebase', 'varchar(256)', (c) => c.notNull())
        .addColumn('project', 'varchar(512)', (c) => c.notNull())
        .addColumn('sourcestampid', 'integer', (c) => c.notNull().references('sourcestamps.id'))
        .addColumn('parent_changeid', 'integer', (c) => c.references('changes.id'))
        .execute();
      await s.createIndex('changes_sourcestampid').on('changes').column('sourcestampid').execute();
      await s.createIndex('changes_when_timestamp').on('changes').column('when_timestamp').execute();
      await s.createIndex('changes_branch').on('changes').columns(['branch', 'id']).execute();
      await s.createIndex('changes_parent_changeid').on('changes').column('parent_changeid').execute();

      await t
        .id(s.createTable('change_files'))
        .addColumn('changeid', 'integer', (c) => c.notNull().references('changes.id'))
        .addColumn('filename', 'varchar(1024)', (c) => c.notNull())
        .execute();
      await s.createIndex('change_files_changeid').on('change_files').column('changeid').execute();

      await t
        .id(s.createTable('change_properties'))
        .addColumn('changeid', 'integer', (c) => c.notNull().references('changes.id'))
        .addColumn('property_name', 'varchar(256)', (c) => c.notNull())
        .addColumn('property_value', 'text', (c) => c.notNull())
        .execute();
      await s.createIndex('change_properties_changeid').on('change_properties').column('changeid').execute();

      await t
        .id(s.createTable('buildsets'))
        .addColumn('external_idstring', 'varchar(256)')
        .addColumn('reason', 'varchar(256)')
        .addColumn('submitted_at', 'bigint', (c) => c.notNull())
        .addColumn('complete', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('complete_at', 'bigint')
        .addColumn('results', 'integer')
        .addColumn('parent_buildid', 'integer')
        .addColumn('parent_relationship', 'text')
        .execute();
      await s.createIndex('buildsets_complete').on('buildsets').columns(['complete', 'id']).execute();
      await s.createIndex('buildsets_parent_buildid').on('buildsets').column('parent_buildid').execute();

      await t
        .id(s.createTable('buildset_sourcestamps'))
        .addColumn('buildsetid', 'integer', (c) => c.notNull().references('buildsets.id'))
        .addColumn('sourcestampid', 'integer', (c) => c.notNull().references('sourcestamps.id'))
        .addUniqueConstraint('buildset_sourcestamps_unique', ['buildsetid', 'sourcestampid'])
        .execute();
      await s
        .createIndex('buildset_sourcestamps_sourcestampid')
        .on('buildset_sourcestamps')
        .column('sourcestampid')
        .execute();

      await t
        .id(s.createTable('buildset_properties'))
        .addColumn('buildsetid', 'integer', (c) => c.notNull().references('buildsets.id'))
        .addColumn('property_name', 'varchar(256)', (c) => c.notNull())
        .addColumn('property_value', 'text', (c) => c.notNull())
        .execute();
      await s
        .createIndex('buildset_properties_buildsetid')
        .on('buildset_properties')
        .column('buildsetid')
        .execute();

      await t
        .id(s.createTable('buildrequests'))
        .addColumn('buildsetid', 'integer', (c) => c.notNull().references('buildsets.id'))
        .addColumn('builderid', 'integer', (c) => c.notNull().references('builders.id'))
        .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('submitted_at', 'bigint', (c) => c.notNull())
        .addColumn('claimed_by_master', 'integer', (c) => c.references('masters.id'))
        .addColumn('claimed_at', 'bigint')
        .addColumn('complete', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('results', 'integer')
        .addColumn('complete_at', 'bigint')
        .addColumn('waited_for', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      // The distributor's query: unclaimed, incomplete requests of a builder by priority, age.
      await s
        .createIndex('buildrequests_pending')
        .on('buildrequests')
        .columns(['builderid', 'complete', 'claimed_by_master', 'priority desc', 'submitted_at', 'id'])
        .execute();
      await s
        .createIndex('buildrequests_claims')
        .on('buildrequests')
        .columns(['claimed_by_master', 'complete'])
        .execute();
      await s.createIndex('buildrequests_buildsetid').on('buildrequests').column('buildsetid').execute();

      await t
        .id(s.createTable('builds'))
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('builderid', 'integer', (c) => c.notNull().references('builders.id'))
        .addColumn('buildrequestid', 'integer', (c) => c.notNull().references('buildrequests.id'))
        .addColumn('workerid', 'integer', (c) => c.references('workers.id'))
        .addColumn('masterid', 'integer', (c) => c.notNull().references('masters.id'))
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('complete_at', 'bigint')
        .addColumn('state_string', 'text', (c) => c.notNull())
        .addColumn('results', 'integer')
        .addUniqueConstraint('builds_number', ['builderid', 'number'])
        .execute();
      // (builderid, number) serves "latest builds of a builder" and the next build number.
      await s.createIndex('builds_buildrequestid').on('builds').column('buildrequestid').execute();
      await s.createIndex('builds_workerid').on('builds').columns(['workerid', 'id']).execute();
      await s
        .createIndex('builds_master_unfinished')
        .on('builds')
        .columns(['masterid', 'complete_at'])
        .execute();
      await s.createIndex('builds_started_at').on('builds').column('started_at').execute();

      await t
        .id(s.createTable('build_properties'))
        .addColumn('buildid', 'integer', (c) => c.notNull().references('builds.id'))
        .addColumn('name', 'varchar(256)', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('source', 'varchar(256)', (c) => c.notNull())
        .addUniqueConstraint('build_properties_unique', ['buildid', 'name'])
        .execute();

      await t
        .id(s.createTable('build_metrics'))
        .addColumn('buildid', 'integer', (c) => c.notNull().references('builds.id'))
        .addColumn('name', 'varchar(256)', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('recorded_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('build_metrics_unique', ['buildid', 'name'])
        .execute();
      // "metric X over time": by name, in build order.
      await s.createIndex('build_metrics_name').on('build_metrics').columns(['name', 'buildid']).execute();

      await t
        .id(s.createTable('steps'))
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('name', 'varchar(150)', (c) => c.notNull())
        .addColumn('buildid', 'integer', (c) => c.notNull().references('builds.id'))
        .addColumn('started_at', 'bigint')
        .addColumn('complete_at', 'bigint')
        .addColumn('state_string', 'text', (c) => c.notNull())
        .addColumn('results', 'integer')
        .addColumn('urls_json', 'text', (c) => c.notNull())
        .addColumn('hidden', 'integer', (c) => c.notNull().defaultTo(0))
        .addUniqueConstraint('steps_number', ['buildid', 'number'])
        .addUniqueConstraint('steps_name', ['buildid', 'name'])
        .execute();
      await s.createIndex('steps_complete_at').on('steps').column('complete_at').execute();

      await t
        .id(s.createTable('logs'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('slug', 'varchar(50)', (c) => c.notNull())
        .addColumn('stepid', 'integer', (c) => c.notNull().references('steps.id'))
        .addColumn('complete', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('num_lines', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('type', 'varchar(1)', (c) => c.notNull())
        .addUniqueConstraint('logs_slug', ['stepid', 'slug'])
        .execute();

      await s
        .createTable('logchunks')
        .addColumn('logid', 'integer', (c) => c.notNull().references('logs.id'))
        .addColumn('first_line', 'integer', (c) => c.notNull())
        .addColumn('last_line', 'integer', (c) => c.notNull())
        .addColumn('content', t.blob, (c) => c.notNull())
        .addColumn('compressed', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('logchunks_pk', ['logid', 'first_line'])
        .execute();
    },
  };
}
