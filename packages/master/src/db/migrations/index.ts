// The ordered list of schema migrations. Names sort lexically; never rename or edit a
// released migration — add a new one.
import type { Migration, MigrationProvider } from 'kysely/migration';
import { initialMigration } from './0001-initial.js';
import { dataApiIndexesMigration } from './0002-data-api-indexes.js';
import { apiTokensMigration } from './0003-api-tokens.js';
import { unscheduledChangesMigration } from './0004-unscheduled-changes.js';
import { blameBisectMigration } from './0005-blame-bisect.js';
import { schedulerStateMigration } from './0006-scheduler-state.js';
import { changeSourceStateMigration } from './0007-change-source-state.js';
import { sessionsMigration } from './0008-sessions.js';
import { reportersMigration } from './0009-reporters.js';
import { leasesMigration } from './0010-leases.js';
import { mqOutboxMigration } from './0011-mq-outbox.js';
import { testQuarantineMigration } from './0012-test-quarantine.js';
import { annotationsMigration } from './0013-annotations.js';
import { ircNotifySubscriptionsMigration } from './0014-irc-notify-subscriptions.js';
import { latentWorkerStatusMigration } from './0015-latent-worker-status.js';
import { schedulerResourcesMigration } from './0016-scheduler-resources.js';
import { logSectionsMigration } from './0017-log-sections.js';
import { outboxAppendMigration } from './0018-outbox-append.js';
import { dialectTypes, type SqlDialectName } from './dialect.js';

export function migrationProvider(dialect: SqlDialectName): MigrationProvider {
  const t = dialectTypes(dialect);
  const migrations: Record<string, Migration> = {
    '0001-initial': initialMigration(t),
    '0002-data-api-indexes': dataApiIndexesMigration(),
    '0003-api-tokens': apiTokensMigration(t),
    '0004-unscheduled-changes': unscheduledChangesMigration(),
    '0005-blame-bisect': blameBisectMigration(t),
    '0006-scheduler-state': schedulerStateMigration(),
    '0007-change-source-state': changeSourceStateMigration(),
    '0008-sessions': sessionsMigration(),
    '0009-reporters': reportersMigration(t),
    '0010-leases': leasesMigration(),
    '0011-mq-outbox': mqOutboxMigration(t),
    '0012-test-quarantine': testQuarantineMigration(t),
    '0013-annotations': annotationsMigration(t),
    '0014-irc-notify-subscriptions': ircNotifySubscriptionsMigration(t),
    '0015-latent-worker-status': latentWorkerStatusMigration(),
    '0016-scheduler-resources': schedulerResourcesMigration(t),
    '0017-log-sections': logSectionsMigration(),
    '0018-outbox-append': outboxAppendMigration(t),
  };
  return { getMigrations: async () => migrations };
}

export type { SqlDialectName } from './dialect.js';
