// Leases: what must run on exactly one of several masters sharing the database (a scheduler,
// a change source) belongs to the master holding its lease until it expires. A lease is
// taken or renewed with one conditional UPDATE (held by this master, or expired), after an
// INSERT … ON CONFLICT DO NOTHING that creates the row the first time; both are atomic on
// SQLite (one writer at a time) and on PostgreSQL (row locks, predicate re-checked), so two
// masters never both hold one.
import type { DataContext } from './context.js';

export interface LeaseRow {
  readonly name: string;
  readonly masterid: number;
  readonly acquiredAt: number;
  readonly expiresAt: number;
}

export class LeasesData {
  constructor(private readonly ctx: DataContext) {}

  /**
   * Takes the lease `name` for `masterid` (or renews it) until now + `seconds`; false when
   * another master holds it and it has not expired.
   */
  async acquire(name: string, masterid: number, seconds: number): Promise<boolean> {
    const { db, now } = this.ctx;
    const at = now();
    const expires_at = at + seconds;
    return db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('leases')
        .values({ name, masterid, acquired_at: at, expires_at })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      if ((inserted.numInsertedOrUpdatedRows ?? 0n) > 0n) return true;
      const renewed = await trx
        .updateTable('leases')
        .set({ expires_at })
        .where('name', '=', name)
        .where('masterid', '=', masterid)
        .executeTakeFirst();
      if (renewed.numUpdatedRows > 0n) return true;
      const taken = await trx
        .updateTable('leases')
        .set({ masterid, acquired_at: at, expires_at })
        .where('name', '=', name)
        .where('expires_at', '<', at)
        .executeTakeFirst();
      return taken.numUpdatedRows > 0n;
    });
  }

  /** Gives up leases this master holds (all of them without `names`). */
  async release(masterid: number, names?: readonly string[]): Promise<void> {
    let q = this.ctx.db.deleteFrom('leases').where('masterid', '=', masterid);
    if (names) {
      if (names.length === 0) return;
      q = q.where('name', 'in', names);
    }
    await q.execute();
  }

  async list(): Promise<LeaseRow[]> {
    const rows = await this.ctx.db.selectFrom('leases').selectAll().orderBy('name').execute();
    return rows.map((r) => ({
      name: r.name,
      masterid: r.masterid,
      acquiredAt: r.acquired_at,
      expiresAt: r.expires_at,
    }));
  }
}
