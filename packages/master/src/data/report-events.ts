// The reporters' durable records: the outbox of report-worthy events, each reporter's
// cursor and last error, and when each worker was last seen. Events are recorded inside
// the transaction of the state change they announce (recordReportEvent), so what was
// committed is reported even if the master dies the next instant.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, ReporterStateTable } from '../db/schema.js';
import type { DataContext } from './context.js';
import { parseJson } from './context.js';

export type ReportEventKind = 'build-started' | 'build-finished' | 'buildset-finished' | 'worker-missing';

export interface ReportEventRow {
  readonly id: number;
  readonly kind: ReportEventKind;
  /** buildid, buildsetid or workerid. */
  readonly subjectId: number;
  readonly at: number;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface ReporterStateRow {
  readonly id: number;
  readonly name: string;
  readonly cursor: number;
  readonly delivered: number;
  readonly failedAttempts: number;
  readonly lastError: string | null;
  readonly lastErrorAt: number | null;
  readonly lastDeliveredAt: number | null;
}

type Writer = Transaction<Database> | Kysely<Database>;

/** Adds an event to the outbox; call it inside the transaction of the change it announces. */
export async function recordReportEvent(
  db: Writer,
  kind: ReportEventKind,
  subjectId: number,
  at: number,
  details: Readonly<Record<string, unknown>> = {},
): Promise<void> {
  await db
    .insertInto('report_events')
    .values({ kind, subject_id: subjectId, at, details: JSON.stringify(details) })
    .execute();
}

export class ReportEventsData {
  constructor(private readonly ctx: DataContext) {}

  /** Events after `cursor`, oldest first. */
  async after(cursor: number, limit: number): Promise<ReportEventRow[]> {
    const rows = await this.ctx.db
      .selectFrom('report_events')
      .selectAll()
      .where('id', '>', cursor)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind as ReportEventKind,
      subjectId: r.subject_id,
      at: r.at,
      details: parseJson<Record<string, unknown>>(r.details, {}),
    }));
  }

  async lastId(): Promise<number> {
    const row = await this.ctx.db
      .selectFrom('report_events')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst();
    return Number(row?.id ?? 0);
  }

  /** How many events lie after each cursor (a reporter's backlog). */
  async countAfter(cursor: number): Promise<number> {
    const row = await this.ctx.db
      .selectFrom('report_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('id', '>', cursor)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Deletes events up to `id`; with `before`, only those that happened before it (epoch seconds). */
  async deleteThrough(id: number, before?: number): Promise<void> {
    let q = this.ctx.db.deleteFrom('report_events').where('id', '<=', id);
    if (before !== undefined) q = q.where('at', '<', before);
    await q.execute();
  }

  /** A reporter's state, created with `cursor` for a reporter seen for the first time. */
  async stateOf(name: string, cursorIfNew: number): Promise<ReporterStateRow> {
    await this.ctx.db
      .insertInto('reporter_state')
      .values({ name, cursor: cursorIfNew })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await this.ctx.db
      .selectFrom('reporter_state')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return toState(row);
  }

  async states(): Promise<ReporterStateRow[]> {
    const rows = await this.ctx.db.selectFrom('reporter_state').selectAll().orderBy('name').execute();
    return rows.map(toState);
  }

  /** The event is handled: `delivered` reports reached the receiver (0 when none were due). */
  async advance(name: string, cursor: number, delivered: number): Promise<void> {
    await this.ctx.db
      .updateTable('reporter_state')
      .set((eb) => ({
        cursor,
        delivered: eb('delivered', '+', delivered),
        failed_attempts: 0,
        ...(delivered > 0 ? { last_delivered_at: this.ctx.now() } : {}),
      }))
      .where('name', '=', name)
      .execute();
  }

  /** A failed attempt; the error stays shown until the next failure replaces it. */
  async recordError(name: string, message: string): Promise<void> {
    await this.ctx.db
      .updateTable('reporter_state')
      .set((eb) => ({
        last_error: message,
        last_error_at: this.ctx.now(),
        failed_attempts: eb('failed_attempts', '+', 1),
      }))
      .where('name', '=', name)
      .execute();
  }

  /** Marks workers seen now (connected), clearing a reported absence. */
  async workersSeen(names: readonly string[]): Promise<void> {
    const now = this.ctx.now();
    for (const name of names)
      await this.ctx.db
        .insertInto('worker_presence')
        .values({ name, last_seen: now, reported: 0 })
        .onConflict((oc) => oc.column('name').doUpdateSet({ last_seen: now, reported: 0 }))
        .execute();
  }

  /** When a worker was last seen; a worker never seen counts from now (the master's start). */
  async lastSeen(name: string): Promise<{ lastSeen: number; reported: boolean }> {
    await this.ctx.db
      .insertInto('worker_presence')
      .values({ name, last_seen: this.ctx.now(), reported: 0 })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await this.ctx.db
      .selectFrom('worker_presence')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return { lastSeen: row.last_seen, reported: row.reported === 1 };
  }

  /**
   * Records a worker's absence as an outbox event, once per absence: the flag that says it
   * was reported and the event commit together. The one path for every "worker missing",
   * whether the worker stayed away past its missingTimeout or, latent, could not be started.
   * False when this absence was reported already (or the worker was seen meanwhile).
   */
  async reportMissing(absence: WorkerAbsence): Promise<boolean> {
    const { name, workerid } = absence;
    const now = this.ctx.now();
    return this.ctx.db.transaction().execute(async (trx) => {
      // A latent worker that never connected has no presence yet: it is absent since its first failure.
      const created = await trx
        .insertInto('worker_presence')
        .values({ name, last_seen: absence.startFailure?.since ?? now, reported: 0 })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      const neverSeen = (created.numInsertedOrUpdatedRows ?? 0n) > 0n;
      let mark = trx
        .updateTable('worker_presence')
        .set({ reported: 1 })
        .where('name', '=', name)
        .where('reported', '=', 0);
      if (absence.lastSeen !== undefined) mark = mark.where('last_seen', '=', absence.lastSeen);
      const u = await mark.executeTakeFirst();
      if (u.numUpdatedRows === 0n) return false;
      const { last_seen } = await trx
        .selectFrom('worker_presence')
        .select('last_seen')
        .where('name', '=', name)
        .executeTakeFirstOrThrow();
      const failure = absence.startFailure;
      await recordReportEvent(trx, 'worker-missing', workerid, now, {
        name,
        lastSeen: neverSeen ? null : last_seen,
        ...(failure && { startAttempts: failure.attempts, startError: failure.error }),
      });
      return true;
    });
  }
}

/** A worker to report missing (ReportEventsData.reportMissing). */
export interface WorkerAbsence {
  readonly name: string;
  readonly workerid: number;
  /** The last-seen time the decision was made on: nothing is reported if it changed since. */
  readonly lastSeen?: number;
  /** A latent worker that could not be started: how often it was tried, since when (epoch seconds), the last error. */
  readonly startFailure?: { readonly attempts: number; readonly since: number; readonly error: string };
}

function toState(r: Selectable<ReporterStateTable>): ReporterStateRow {
  return {
    id: r.id,
    name: r.name,
    cursor: r.cursor,
    delivered: r.delivered,
    failedAttempts: r.failed_attempts,
    lastError: r.last_error,
    lastErrorAt: r.last_error_at,
    lastDeliveredAt: r.last_delivered_at,
  };
}
