// `lathe copy-db`: copies a whole installation from one database to another (SQLite to
// PostgreSQL, or any other pair), ids included, into a target that holds no data yet.
// The target is brought to the current schema first and the copy runs in one target
// transaction, so a failure leaves it as empty as it was. The source must be at the same
// schema (`lathe upgrade-master` first) and should not be written meanwhile (stop the master).
import { type Kysely, sql } from 'kysely';
import { type Db, migrateToLatest } from './connection.js';
import { migrationProvider } from './migrations/index.js';

/**
 * Tables in an order where every foreign key points at a table copied before. Tables a
 * later migration adds and that are missing here are copied after these, alphabetically:
 * add a new table here when it references another one added later than itself.
 */
export const COPY_ORDER = [
  'masters',
  'workers',
  'builders',
  'connected_workers',
  'configured_workers',
  'builder_masters',
  'patches',
  'sourcestamps',
  'changes',
  'change_files',
  'change_properties',
  'unscheduled_changes',
  'buildsets',
  'buildset_sourcestamps',
  'buildset_properties',
  'buildset_changes',
  'buildrequests',
  'builds',
  'build_properties',
  'build_metrics',
  'steps',
  'logs',
  'logchunks',
  'log_section_markers',
  'api_tokens',
  'blame_builds',
  'bisections',
  'scheduler_state',
  'change_source_state',
  'sessions',
  'report_events',
  'reporter_state',
  'worker_presence',
  'leases',
  'mq_outbox',
  'tests',
  'test_runs',
  'annotations',
  'irc_subscriptions',
  'latent_workers',
  'schedulers',
  'changesources',
] as const;

// Kysely's own bookkeeping: the target's comes from migrating it.
const MIGRATION_TABLES = new Set(['kysely_migration', 'kysely_migration_lock']);

/** Bound parameters per INSERT, below SQLite's limit (32766) and PostgreSQL's (65535). */
const PARAMETERS_PER_INSERT = 4000;

export class CopyRefusedError extends Error {
  override readonly name = 'CopyRefusedError';
}

export interface CopyReport {
  /** Rows copied per table, in copy order. */
  readonly tables: readonly { readonly table: string; readonly rows: number }[];
}

type Untyped = Kysely<Record<string, Record<string, unknown>>>;

async function appliedMigrations(db: Db): Promise<string[]> {
  const k = db.kysely as unknown as Untyped;
  try {
    const rows = await k.selectFrom('kysely_migration').select('name').orderBy('name').execute();
    return rows.map((r) => String(r.name));
  } catch {
    return [];
  }
}

async function tablesOf(db: Db): Promise<Map<string, string[]>> {
  const tables = await db.kysely.introspection.getTables();
  return new Map(
    tables
      .filter((t) => !t.isView && !MIGRATION_TABLES.has(t.name) && !t.name.startsWith('sqlite_'))
      .map((t) => [t.name, t.columns.map((c) => c.name)]),
  );
}

/** Copies every row of every table of `from` into `to`; see the top of this file. */
export async function copyDatabase(
  from: Db,
  to: Db,
  onTable: (table: string, rows: number) => void = () => {},
): Promise<CopyReport> {
  const known = Object.keys(await migrationProvider(from.dialect).getMigrations()).sort();
  const applied = await appliedMigrations(from);
  if (applied.length === 0) throw new CopyRefusedError(`the source ${from.location} has no Lathe schema`);
  const missing = known.filter((m) => !applied.includes(m));
  const unknown = applied.filter((m) => !known.includes(m));
  if (unknown.length > 0)
    throw new CopyRefusedError(
      `the source ${from.location} has migrations this Lathe does not know (${unknown.join(', ')}): use the Lathe that wrote it`,
    );
  if (missing.length > 0)
    throw new CopyRefusedError(
      `the source ${from.location} lacks migrations ${missing.join(', ')}: run lathe upgrade-master on it first`,
    );
  await migrateToLatest(to);
  const source = await tablesOf(from);
  const target = await tablesOf(to);
  for (const [table] of target) {
    const k = to.kysely as unknown as Untyped;
    const r = await k
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(r.n) > 0)
      throw new CopyRefusedError(
        `the target ${to.location} is not empty (table ${table} has ${Number(r.n)} rows): copy-db only fills an empty database`,
      );
  }
  const order = [
    ...COPY_ORDER.filter((t) => source.has(t)),
    ...[...source.keys()].filter((t) => !(COPY_ORDER as readonly string[]).includes(t)).sort(),
  ];
  for (const table of order) {
    if (!target.has(table)) throw new CopyRefusedError(`the target ${to.location} has no table ${table}`);
  }
  const tables: { table: string; rows: number }[] = [];
  await to.kysely.transaction().execute(async (trx) => {
    const into = trx as unknown as Untyped;
    const src = from.kysely as unknown as Untyped;
    for (const table of order) {
      const columns = source.get(table)!;
      const perInsert = Math.max(1, Math.floor(PARAMETERS_PER_INSERT / columns.length));
      let batch: Record<string, unknown>[] = [];
      let rows = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        await into.insertInto(table).values(batch).execute();
        rows += batch.length;
        batch = [];
      };
      const ordered = columns.includes('id')
        ? src.selectFrom(table).selectAll().orderBy('id')
        : src.selectFrom(table).selectAll();
      for await (const row of ordered.stream(perInsert)) {
        batch.push(row);
        if (batch.length >= perInsert) await flush();
      }
      await flush();
      tables.push({ table, rows });
      onTable(table, rows);
    }
    if (to.dialect === 'postgres') {
      // Rows came with their ids, which serial columns' sequences did not hand out: move
      // each sequence past the largest id so new rows do not collide.
      for (const table of order) {
        if (!source.get(table)!.includes('id')) continue;
        await sql`select setval(pg_get_serial_sequence(${table}, 'id'), coalesce((select max(id) from ${sql.table(table)}), 0) + 1, false)`.execute(
          trx,
        );
      }
    }
  });
  return { tables };
}
