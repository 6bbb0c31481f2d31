// What schedulers remember across restarts and reconfigs, one JSON value per scheduler
// and key (Buildbot keeps the like as "object state"). Writes can join a caller's
// transaction, so that a buildset and the state saying it was added commit together.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { DataContext } from './context.js';

export class SchedulerStateData {
  constructor(private readonly ctx: DataContext) {}

  /** Every key of a scheduler starting with `prefix`, with its value. */
  async list(scheduler: string, prefix = ''): Promise<Map<string, unknown>> {
    const rows = await this.ctx.db
      .selectFrom('scheduler_state')
      .select(['key', 'value_json'])
      .where('scheduler', '=', scheduler)
      .orderBy('key')
      .execute();
    const out = new Map<string, unknown>();
    for (const r of rows) if (r.key.startsWith(prefix)) out.set(r.key, JSON.parse(r.value_json));
    return out;
  }

  async get(scheduler: string, key: string): Promise<unknown> {
    const row = await this.ctx.db
      .selectFrom('scheduler_state')
      .select('value_json')
      .where('scheduler', '=', scheduler)
      .where('key', '=', key)
      .executeTakeFirst();
    return row ? JSON.parse(row.value_json) : undefined;
  }

  async set(
    scheduler: string,
    key: string,
    value: unknown,
    db: Kysely<Database> = this.ctx.db,
  ): Promise<void> {
    const value_json = JSON.stringify(value);
    await db
      .insertInto('scheduler_state')
      .values({ scheduler, key, value_json })
      .onConflict((oc) => oc.columns(['scheduler', 'key']).doUpdateSet({ value_json }))
      .execute();
  }

  /** Deletes one key, or every key of the scheduler when `key` is absent. */
  async delete(scheduler: string, key?: string, db: Kysely<Database> = this.ctx.db): Promise<void> {
    let q = db.deleteFrom('scheduler_state').where('scheduler', '=', scheduler);
    if (key !== undefined) q = q.where('key', '=', key);
    await q.execute();
  }
}
