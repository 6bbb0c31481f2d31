// The cross-master message queue's table: each master appends the events it published, in
// commit order, and the others read what came after the last id they saw. The id is the
// global sequence. Rows older than the retention are pruned; a reader that fell behind
// further than that learns so from `oldestId` and resynchronises.
import type { DataContext } from './context.js';

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

  /** Appends events in one transaction, in order. */
  async append(masterid: number, events: readonly OutboxEvent[]): Promise<void> {
    if (events.length === 0) return;
    const created_at = this.ctx.now();
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

  /** Events after `afterId` published by masters other than `exceptMaster`, oldest first. */
  async after(
    afterId: number,
    exceptMaster: number,
    limit = 500,
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
