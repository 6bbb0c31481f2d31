// The cross-master message queue's table: each master appends the events it published, in
// commit order, and the others read what came after the last id they saw. The id is the
// global sequence. Rows older than the retention are pruned; a data API subscriber that
// fell behind further than that learns so from `oldestId` and resynchronises.
//
// Reading "after the last id seen" is only sound if ids become visible in id order. On
// SQLite they do (one writer at a time). On PostgreSQL a sequence value is taken when a
// row is inserted, not when its transaction commits: a slow append holding id 7 may commit
// after a quick one holding id 8, and a reader that saw 8 would skip 7 forever. So appends
// take the table in EXCLUSIVE mode (readers are not held up, only other writers): the
// next append takes its ids only after the previous one committed, and a gap a reader
// steps over is one a rolled-back append left, never one still to come.
import { sql } from 'kysely';
import type { DataContext } from './context.js';

/** The PostgreSQL channel an append NOTIFYs in its transaction (the notice: `outboxNotice`). */
export const OUTBOX_CHANNEL = 'lathe_mq_outbox';

/**
 * What an append's notification says: the appending master's id, a space, the kinds
 * appended (each once, comma-separated). A master with nobody listening for those kinds
 * need not read them now (cluster/postgres-wakeup.ts).
 */
export function outboxNotice(masterid: number, events: readonly OutboxEvent[]): string {
  return `${masterid} ${[...new Set(events.map((e) => e.kind))].join(',')}`;
}

/** Reads a notice back; `kinds` is undefined for a bare master id (an older master's). */
export function parseOutboxNotice(notice: string): { masterid: string; kinds?: readonly string[] } {
  const space = notice.indexOf(' ');
  if (space < 0) return { masterid: notice };
  return { masterid: notice.slice(0, space), kinds: notice.slice(space + 1).split(',') };
}

export interface OutboxEvent {
  readonly kind: string;
  readonly payload: unknown;
}

export interface OutboxRow extends OutboxEvent {
  readonly id: number;
  readonly masterid: number;
}

export class OutboxData {
  constructor(private readonly ctx: DataContext) {}

  /** Appends events in one transaction, in order, and tells the other masters which kinds. */
  async append(masterid: number, events: readonly OutboxEvent[]): Promise<void> {
    if (events.length === 0) return;
    const created_at = this.ctx.now();
    if (this.ctx.dialect === 'postgres') {
      // One round trip (migration 0018): lock, insert in order, notify on commit.
      await sql`select lathe_outbox_append(${masterid}, ${events.map((e) => e.kind)}, ${events.map((e) =>
        JSON.stringify(e.payload),
      )}, ${created_at}, ${OUTBOX_CHANNEL}, ${outboxNotice(masterid, events)})`.execute(this.ctx.db);
      return;
    }
    await this.ctx.db.transaction().execute(async (trx) => {
      // Bounded statements: a burst of log events must not build one huge INSERT.
      for (let i = 0; i < events.length; i += 200) {
        await trx
          .insertInto('mq_outbox')
          .values(
            events.slice(i, i + 200).map((e) => ({
              masterid,
              kind: e.kind,
              payload: JSON.stringify(e.payload),
              created_at,
            })),
          )
          .execute();
      }
    });
  }

  /** Events after `afterId` (but those of `exceptMaster`), oldest first; `lastId`: the last id looked at. */
  async after(
    afterId: number,
    limit = 500,
    exceptMaster?: number,
  ): Promise<{ rows: OutboxRow[]; lastId: number }> {
    const rows = await this.ctx.db
      .selectFrom('mq_outbox')
      .selectAll()
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
    const lastId = rows.length > 0 ? rows[rows.length - 1]!.id : afterId;
    return {
      rows: rows
        .filter((r) => r.masterid !== exceptMaster)
        .map((r) => ({
          id: r.id,
          masterid: r.masterid,
          kind: r.kind,
          payload: JSON.parse(r.payload) as unknown,
        })),
      lastId,
    };
  }

  /** The oldest id kept (null when empty): what is older was pruned. */
  async oldestId(): Promise<number | null> {
    const r = await this.ctx.db
      .selectFrom('mq_outbox')
      .select((eb) => eb.fn.min('id').as('id'))
      .executeTakeFirst();
    return r?.id == null ? null : Number(r.id);
  }

  /** The newest id (0 when empty): where a master that just started begins reading. */
  async lastId(): Promise<number> {
    const r = await this.ctx.db
      .selectFrom('mq_outbox')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst();
    return Number(r?.id ?? 0);
  }

  /** Deletes events stored before `epochSeconds`; returns how many. */
  async pruneBefore(epochSeconds: number): Promise<number> {
    const r = await this.ctx.db
      .deleteFrom('mq_outbox')
      .where('created_at', '<', epochSeconds)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
