// Shared set-up for tests: real SQLite files in fresh temporary directories (or PostgreSQL
// databases standing in for them: test-database.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CompiledQuery, Kysely } from 'kysely';
import { EventBus } from '../src/bus/bus.js';
import { DataLayer } from '../src/data/index.js';
import { type Db, openAndMigrate } from '../src/db/connection.js';
import type { Database } from '../src/db/schema.js';
import { NodeSqliteDialect } from '../src/db/sqlite-driver.js';
import { Master, type MasterOptions } from '../src/master.js';
import { masterDbOptions, testDatabaseUrl } from './test-database.js';

export function tempDir(prefix = 'lathe-master-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TestData {
  readonly db: Db;
  readonly bus: EventBus;
  readonly data: DataLayer;
  close(): Promise<void>;
}

/** The data layer on `file`, or on its PostgreSQL stand-in in the PostgreSQL pass (test-database.ts). */
export async function openData(file: string, now?: () => number): Promise<TestData> {
  const db = await openAndMigrate({ url: await testDatabaseUrl(file) });
  const bus = new EventBus({
    onHandlerError: (r) => {
      throw r.error;
    },
  });
  const data = new DataLayer(db, bus, now ? { now } : {});
  return { db, bus, data, close: () => db.close() };
}

/**
 * `Master.start` on this run's engine: in the PostgreSQL pass the master gets a database
 * standing in for its basedir's SQLite file (test-database.ts), unless the test names one.
 * Every test that starts a master in-process goes through here, so the pass covers it.
 */
export async function startMaster(options: MasterOptions): Promise<Master> {
  return Master.start({ ...(await masterDbOptions(options.basedir)), ...options });
}

/** A builder with one pending request for a fresh source stamp; returns the ids. */
export async function seedRequests(
  data: DataLayer,
  builderName: string,
  count: number,
  opts: { priority?: number; branch?: string; submittedAt?: number } = {},
): Promise<{ builderid: number; brids: number[] }> {
  const builderid = await data.builders.findOrCreate(builderName);
  const brids: number[] = [];
  for (let i = 0; i < count; i++) {
    const ssid = await data.sourcestamps.findOrCreate({
      repository: 'https://example.org/repo.git',
      branch: opts.branch ?? 'main',
      revision: `${builderName}-${i}-${Math.random().toString(36).slice(2)}`,
    });
    const added = await data.buildsets.add({
      sourcestampids: [ssid],
      builderids: [builderid],
      reason: 'test',
      ...(opts.priority === undefined ? {} : { priority: opts.priority }),
      ...(opts.submittedAt === undefined ? {} : { submittedAt: opts.submittedAt }),
    });
    brids.push(added.buildrequestids.get(builderid)!);
  }
  return { builderid, brids };
}

/**
 * A data layer on a migrated SQLite file that records every query it sends, and the query
 * plan of the last one (what the query-plan tests assert on).
 */
export async function openRecordedData(file: string): Promise<{
  data: DataLayer;
  kysely: Kysely<Database>;
  queries: CompiledQuery[];
  planOfLast(): Promise<string[]>;
}> {
  const migrated = await openAndMigrate({ url: `sqlite:${file}` });
  await migrated.close();
  const queries: CompiledQuery[] = [];
  const kysely = new Kysely<Database>({
    dialect: new NodeSqliteDialect({ filename: file, busyTimeoutMs: 10_000 }),
    log: (e) => {
      if (e.level === 'query') queries.push(e.query);
    },
  });
  const data = new DataLayer(
    { kysely, dialect: 'sqlite', location: file, close: () => kysely.destroy() },
    new EventBus(),
  );
  const planOfLast = async () => {
    const q = queries.at(-1)!;
    const { rows } = await kysely.executeQuery<{ detail: string }>({
      ...q,
      sql: `EXPLAIN QUERY PLAN ${q.sql}`,
    });
    return rows.map((r) => r.detail);
  };
  return { data, kysely, queries, planOfLast };
}

/**
 * For services under test that are started alone and never look at the master they are
 * started with (schedulers, sets of stand-in services): a master they must not touch.
 */
export const NO_MASTER = Object.freeze({}) as Master;

/** Every schema migration, in order: what a new database gets (kept in one place for the tests). */
export const MIGRATIONS: readonly string[] = [
  '0001-initial',
  '0002-data-api-indexes',
  '0003-api-tokens',
  '0004-unscheduled-changes',
  '0005-blame-bisect',
  '0006-scheduler-state',
  '0007-change-source-state',
  '0008-sessions',
  '0009-reporters',
  '0010-leases',
  '0011-mq-outbox',
  '0012-test-quarantine',
  '0013-annotations',
  '0014-irc-notify-subscriptions',
  '0015-latent-worker-status',
  '0016-scheduler-resources',
  '0017-log-sections',
  '0018-outbox-append',
];
