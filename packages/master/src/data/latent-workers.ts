// What the data API shows of latent workers (workers/latent/service.ts): each one's state,
// last failed start and idle-stop time, written on every change and announced with
// `worker.latent-status`, so that the workers resource carries it and its events follow it.
import type { DataContext } from './context.js';

/** A latent worker's state as the API names it. */
export type LatentWorkerState = 'stopped' | 'starting' | 'running' | 'stopping';

export interface LatentWorkerStatusRow {
  readonly state: LatentWorkerState;
  readonly lastStartError: string | null;
  /** Epoch seconds. */
  readonly lastStartErrorAt: number | null;
  /** Reported missing after its start attempts ran out. */
  readonly missing: boolean;
  /** Epoch seconds before which no start is attempted (a retry delay), or null. */
  readonly nextStartAt: number | null;
  /** Epoch seconds at which it is stopped for idling, or null while it is busy or not running. */
  readonly idleStopAt: number | null;
}

export class LatentWorkersData {
  constructor(private readonly ctx: DataContext) {}

  async record(workerid: number, masterid: number, status: LatentWorkerStatusRow): Promise<void> {
    const values = {
      masterid,
      state: status.state,
      last_start_error: status.lastStartError,
      last_start_error_at: status.lastStartErrorAt,
      missing: status.missing ? 1 : 0,
      next_start_at: status.nextStartAt,
      idle_stop_at: status.idleStopAt,
    };
    await this.ctx.db
      .insertInto('latent_workers')
      .values({ workerid, ...values })
      .onConflict((oc) => oc.column('workerid').doUpdateSet(values))
      .execute();
    this.ctx.bus.publish('worker.latent-status', { workerid });
  }

  /** The stored status of those of `workerids` that are latent. */
  async statusOf(workerids: readonly number[]): Promise<Map<number, LatentWorkerStatusRow>> {
    const out = new Map<number, LatentWorkerStatusRow>();
    if (workerids.length === 0) return out;
    const rows = await this.ctx.db
      .selectFrom('latent_workers')
      .selectAll()
      .where('workerid', 'in', [...workerids])
      .execute();
    for (const r of rows)
      out.set(r.workerid, {
        state: r.state as LatentWorkerState,
        lastStartError: r.last_start_error,
        lastStartErrorAt: r.last_start_error_at,
        missing: r.missing === 1,
        nextStartAt: r.next_start_at,
        idleStopAt: r.idle_stop_at,
      });
    return out;
  }

  /** Forgets the workers configured on this master that are no longer latent. */
  async forget(workerids: readonly number[]): Promise<void> {
    if (workerids.length === 0) return;
    const gone = await this.ctx.db
      .deleteFrom('latent_workers')
      .where('workerid', 'in', workerids)
      .returning('workerid')
      .execute();
    for (const { workerid } of gone) this.ctx.bus.publish('worker.latent-status', { workerid });
  }
}
