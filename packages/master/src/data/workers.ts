// Worker identities, which master each is connected to, and which builders it serves.
import type { DataContext } from './context.js';
import { parseJson } from './context.js';

export interface WorkerRow {
  readonly id: number;
  readonly name: string;
  readonly info: Record<string, unknown>;
  readonly paused: boolean;
  readonly graceful: boolean;
}

export class WorkersData {
  constructor(private readonly ctx: DataContext) {}

  /** The id for a worker name, creating the row on first sight. */
  async findOrCreate(name: string): Promise<number> {
    const { db } = this.ctx;
    const existing = await db.selectFrom('workers').select('id').where('name', '=', name).executeTakeFirst();
    if (existing) return existing.id;
    await db
      .insertInto('workers')
      .values({ name, info: '{}' })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await db
      .selectFrom('workers')
      .select('id')
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    this.ctx.bus.publish('worker.configured', { workerid: row.id, name });
    return row.id;
  }

  async get(workerid: number): Promise<WorkerRow | undefined> {
    const row = await this.ctx.db
      .selectFrom('workers')
      .selectAll()
      .where('id', '=', workerid)
      .executeTakeFirst();
    return row && toWorker(row);
  }

  async getByName(name: string): Promise<WorkerRow | undefined> {
    const row = await this.ctx.db
      .selectFrom('workers')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toWorker(row);
  }

  async connected(workerid: number, masterid: number, info: Record<string, unknown>): Promise<void> {
    const { db } = this.ctx;
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('workers')
        .set({ info: JSON.stringify(info) })
        .where('id', '=', workerid)
        .execute();
      await trx
        .insertInto('connected_workers')
        .values({ workerid, masterid })
        .onConflict((oc) => oc.columns(['masterid', 'workerid']).doNothing())
        .execute();
    });
    const w = await this.get(workerid);
    this.ctx.bus.publish('worker.connected', { workerid, name: w?.name ?? '', masterid });
  }

  async disconnected(workerid: number, masterid: number): Promise<void> {
    await this.ctx.db
      .deleteFrom('connected_workers')
      .where('workerid', '=', workerid)
      .where('masterid', '=', masterid)
      .execute();
    const w = await this.get(workerid);
    this.ctx.bus.publish('worker.disconnected', { workerid, name: w?.name ?? '', masterid });
  }

  /** Records whether the worker is paused and/or shutting down gracefully. */
  async setState(workerid: number, state: { paused: boolean; graceful: boolean }): Promise<void> {
    await this.ctx.db
      .updateTable('workers')
      .set({ paused: state.paused ? 1 : 0, graceful: state.graceful ? 1 : 0 })
      .where('id', '=', workerid)
      .execute();
    this.ctx.bus.publish('worker.state', { workerid, ...state });
  }

  async connectedTo(masterid: number): Promise<number[]> {
    const rows = await this.ctx.db
      .selectFrom('connected_workers')
      .select('workerid')
      .where('masterid', '=', masterid)
      .execute();
    return rows.map((r) => r.workerid);
  }

  /** Replaces the set of workers this master offers to `builderid`. */
  async setConfigured(masterid: number, builderid: number, workerids: readonly number[]): Promise<void> {
    await this.ctx.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('configured_workers')
        .where('masterid', '=', masterid)
        .where('builderid', '=', builderid)
        .execute();
      if (workerids.length > 0) {
        await trx
          .insertInto('configured_workers')
          .values(workerids.map((workerid) => ({ masterid, builderid, workerid })))
          .execute();
      }
    });
  }

  async configuredFor(builderid: number): Promise<number[]> {
    const rows = await this.ctx.db
      .selectFrom('configured_workers')
      .select('workerid')
      .distinct()
      .where('builderid', '=', builderid)
      .execute();
    return rows.map((r) => r.workerid);
  }
}

function toWorker(row: {
  id: number;
  name: string;
  info: string;
  paused: number;
  graceful: number;
}): WorkerRow {
  return {
    id: row.id,
    name: row.name,
    info: parseJson<Record<string, unknown>>(row.info, {}),
    paused: row.paused === 1,
    graceful: row.graceful === 1,
  };
}
