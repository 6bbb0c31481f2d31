// Master incarnations sharing the database. A master is known by its name (host and
// directory); `active` with a recent `last_active` means it is running.
import { type DataContext, forUpdate } from './context.js';

export interface MasterRow {
  readonly id: number;
  readonly name: string;
  readonly active: boolean;
  readonly lastActive: number;
}

export interface RegisteredMaster {
  readonly masterid: number;
  /** True when the previous run under this name never said it stopped: it crashed. */
  readonly previousRunCrashed: boolean;
}

export class MastersData {
  constructor(private readonly ctx: DataContext) {}

  /** Finds or creates the row for `name` and marks it active. */
  async register(name: string): Promise<RegisteredMaster> {
    const { db, now, dialect } = this.ctx;
    return db.transaction().execute(async (trx) => {
      const created = await trx
        .insertInto('masters')
        .values({ name, active: 1, last_active: now() })
        .onConflict((oc) => oc.column('name').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (created) return { masterid: created.id, previousRunCrashed: false };
      const existing = await forUpdate(
        dialect,
        trx.selectFrom('masters').selectAll().where('name', '=', name),
      ).executeTakeFirstOrThrow();
      await trx
        .updateTable('masters')
        .set({ active: 1, last_active: now() })
        .where('id', '=', existing.id)
        .execute();
      return { masterid: existing.id, previousRunCrashed: existing.active === 1 };
    });
  }

  /**
   * Says this master is alive. Returns false when another master had declared it dead (its
   * heartbeat was late by more than the expiry) and cleaned up after it; it is marked
   * active again.
   */
  async heartbeat(masterid: number): Promise<boolean> {
    const { db, now } = this.ctx;
    const r = await db
      .updateTable('masters')
      .set({ last_active: now() })
      .where('id', '=', masterid)
      .where('active', '=', 1)
      .executeTakeFirst();
    if (r.numUpdatedRows > 0n) return true;
    await db
      .updateTable('masters')
      .set({ active: 1, last_active: now() })
      .where('id', '=', masterid)
      .execute();
    return false;
  }

  async setInactive(masterid: number): Promise<boolean> {
    const r = await this.ctx.db
      .updateTable('masters')
      .set({ active: 0 })
      .where('id', '=', masterid)
      .where('active', '=', 1)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async get(masterid: number): Promise<MasterRow | undefined> {
    const row = await this.ctx.db
      .selectFrom('masters')
      .selectAll()
      .where('id', '=', masterid)
      .executeTakeFirst();
    return row && toMaster(row);
  }

  async list(): Promise<MasterRow[]> {
    const rows = await this.ctx.db.selectFrom('masters').selectAll().orderBy('id').execute();
    return rows.map(toMaster);
  }

  /** Active masters other than `except` that have not sent a heartbeat since `cutoff`. */
  async findExpired(cutoff: number, except: number): Promise<MasterRow[]> {
    const rows = await this.ctx.db
      .selectFrom('masters')
      .selectAll()
      .where('active', '=', 1)
      .where('last_active', '<', cutoff)
      .where('id', '!=', except)
      .execute();
    return rows.map(toMaster);
  }
}

function toMaster(row: { id: number; name: string; active: number; last_active: number }): MasterRow {
  return { id: row.id, name: row.name, active: row.active === 1, lastActive: row.last_active };
}
