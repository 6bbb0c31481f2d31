// What change sources remember across restarts (a poller's last seen heads), one JSON value
// per change source and key. Kept apart from scheduler_state so that neither kind's names
// can collide with the other's.
import type { DataContext } from './context.js';

export class BadChangeSourceStateError extends Error {
  override readonly name = 'BadChangeSourceStateError';
  constructor(
    readonly source: string,
    readonly key: string,
    cause: unknown,
  ) {
    super(`the stored state ${JSON.stringify(key)} of change source ${source} is not JSON`, { cause });
  }
}

export class ChangeSourceStateData {
  constructor(private readonly ctx: DataContext) {}

  async get(source: string, key: string): Promise<unknown> {
    const row = await this.ctx.db
      .selectFrom('change_source_state')
      .select('value_json')
      .where('source', '=', source)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) return undefined;
    try {
      return JSON.parse(row.value_json);
    } catch (err) {
      throw new BadChangeSourceStateError(source, key, err);
    }
  }

  async set(source: string, key: string, value: unknown): Promise<void> {
    const value_json = JSON.stringify(value);
    await this.ctx.db
      .insertInto('change_source_state')
      .values({ source, key, value_json })
      .onConflict((oc) => oc.columns(['source', 'key']).doUpdateSet({ value_json }))
      .execute();
  }
}
