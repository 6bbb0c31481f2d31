// What schedulers remember across restarts and reconfigs, one JSON value per scheduler
// and key (Buildbot keeps the like as "object state"). Writes can join a caller's
// transaction, so that a buildset and the state saying it was added commit together.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { DataContext } from './context.js';

export class BadSchedulerStateError extends Error {
  override readonly name = 'BadSchedulerStateError';
  constructor(
    readonly scheduler: string,
    readonly key: string,
    cause: unknown,
  ) {
    super(
      `the stored state ${JSON.stringify(key)} of scheduler ${scheduler} is not JSON: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

function parse(scheduler: string, key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadSchedulerStateError(scheduler, key, err);
  }
}

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
    for (const r of rows) if (r.key.startsWith(prefix)) out.set(r.key, parse(scheduler, r.key, r.value_json));
    return out;
  }

  async get(scheduler: string, key: string): Promise<unknown> {
    const row = await this.ctx.db
      .selectFrom('scheduler_state')
      .select('value_json')
      .where('scheduler', '=', scheduler)
      .where('key', '=', key)
      .executeTakeFirst();
    return row ? parse(scheduler, key, row.value_json) : undefined;
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
