// The configured schedulers and change sources as the data API shows them: every master
// writes the rows of its config (kind, builders, a force scheduler's form) and, for what it
// runs, who runs it and its times; a change source's polls and errors are written as they
// happen. A row is written, and announced on the bus, only when something in it changed.
import { type Kysely, sql } from 'kysely';
import type { DataContext } from './context.js';

/** What the config says of a scheduler. */
export interface SchedulerRecord {
  readonly name: string;
  readonly kind: string;
  readonly builderNames: readonly string[];
  /** A force scheduler's form; null for other kinds. */
  readonly force: {
    readonly reasonRequired: boolean;
    readonly anyProperties: boolean;
    readonly parameters: readonly unknown[];
  } | null;
}

/** A scheduler this master runs. */
export interface SchedulerRun {
  /** Null when every master runs it (a called scheduler with `cluster`). */
  readonly masterid: number | null;
  /** Epoch seconds. */
  readonly nextRunAt: number | null;
  readonly lastRunAt: number | null;
}

/** What the config says of a change source. */
export interface ChangeSourceRecord {
  readonly name: string;
  /** Its config type: `git`, `pb`. */
  readonly kind: string;
}

/** What a change source did, epoch seconds; `error` null clears the last error. */
export interface ChangeSourceActivity {
  readonly polledAt?: number;
  readonly changeAt?: number;
  readonly error?: { readonly message: string; readonly at: number } | null;
}

type Row = Record<string, string | number | null>;
type Untyped = Record<string, Record<string, unknown>>;

export class ServiceRecordsData {
  constructor(private readonly ctx: DataContext) {}

  /**
   * Makes the schedulers match the config: adds and updates the configured ones (with who
   * runs them and their times, for those in `running`), deletes the others.
   */
  async syncSchedulers(
    configured: readonly SchedulerRecord[],
    running: ReadonlyMap<string, SchedulerRun>,
  ): Promise<void> {
    await this.#sync(
      'schedulers',
      configured.map((s) => {
        const run = running.get(s.name);
        return {
          config: {
            name: s.name,
            kind: s.kind,
            builder_names: JSON.stringify(s.builderNames),
            reason_required: s.force ? Number(s.force.reasonRequired) : null,
            any_properties: s.force ? Number(s.force.anyProperties) : null,
            parameters: s.force ? JSON.stringify(s.force.parameters) : null,
          },
          run: run && {
            enabled: 1,
            masterid: run.masterid,
            next_run_at: run.nextRunAt,
            last_run_at: run.lastRunAt,
          },
        };
      }),
      (row) => this.#announceScheduler(row),
    );
  }

  /** Like syncSchedulers, for change sources: `running` holds who runs each this master runs. */
  async syncChangeSources(
    configured: readonly ChangeSourceRecord[],
    running: ReadonlyMap<string, { readonly masterid: number | null }>,
  ): Promise<void> {
    await this.#sync(
      'changesources',
      configured.map((c) => {
        const run = running.get(c.name);
        return {
          config: { name: c.name, kind: c.kind },
          run: run && { enabled: 1, masterid: run.masterid },
        };
      }),
      (row) => this.ctx.bus.publish('changesource.updated', { changesourceid: row.id as number }),
    );
  }

  /**
   * This master runs only `keep` now: the rows it held for anything else (a lease moved away,
   * it stops) say that no master runs them, until the one that took them over says so.
   */
  async releaseAllBut(
    masterid: number,
    keep: { readonly schedulers: readonly string[]; readonly changeSources: readonly string[] },
  ): Promise<void> {
    const db = this.ctx.db;
    const release = async (table: 'schedulers' | 'changesources', names: readonly string[]) => {
      let q = db
        .updateTable(table)
        .set(
          table === 'schedulers'
            ? { enabled: 0, masterid: null, next_run_at: null }
            : { enabled: 0, masterid: null },
        )
        .where('masterid', '=', masterid);
      if (names.length > 0) q = q.where('name', 'not in', [...names]);
      return (await q.returningAll().execute()) as Row[];
    };
    for (const row of await release('schedulers', keep.schedulers)) this.#announceScheduler(row);
    for (const row of await release('changesources', keep.changeSources))
      this.ctx.bus.publish('changesource.updated', { changesourceid: row.id as number });
  }

  /** Records a change source's poll, change or error. */
  async changeSourceActivity(name: string, activity: ChangeSourceActivity): Promise<void> {
    const set: Row = {};
    if (activity.polledAt !== undefined) set.last_poll_at = activity.polledAt;
    if (activity.changeAt !== undefined) set.last_change_at = activity.changeAt;
    if (activity.error !== undefined) {
      set.last_error = activity.error?.message ?? null;
      set.last_error_at = activity.error?.at ?? null;
    }
    if (Object.keys(set).length === 0) return;
    const row = await this.ctx.db
      .updateTable('changesources')
      .set(set)
      .where('name', '=', name)
      .returning('id')
      .executeTakeFirst();
    if (row) this.ctx.bus.publish('changesource.updated', { changesourceid: row.id });
  }

  #announceScheduler(row: Row): void {
    const schedulerid = row.id as number;
    this.ctx.bus.publish('scheduler.updated', { schedulerid });
    if (row.parameters !== null) this.ctx.bus.publish('forcescheduler.updated', { schedulerid });
  }

  async #sync(
    table: 'schedulers' | 'changesources',
    wanted: readonly { config: Row; run: Row | undefined }[],
    announce: (row: Row) => void,
  ): Promise<void> {
    const db = this.ctx.db as unknown as Kysely<Untyped>;
    const existing = new Map(
      ((await db.selectFrom(table).selectAll().execute()) as Row[]).map((r) => [r.name as string, r]),
    );
    for (const { config, run } of wanted) {
      const values: Row = { ...config, ...run };
      const current = existing.get(config.name as string);
      existing.delete(config.name as string);
      if (!current) {
        // Another master may add it at the same moment: its row is as good as ours.
        const row = (await db
          .insertInto(table)
          .values(values)
          .onConflict((oc) => oc.column('name').doNothing())
          .returningAll()
          .executeTakeFirst()) as Row | undefined;
        if (row) announce(row);
        continue;
      }
      const changed = Object.entries(values).filter(([k, v]) => current[k] !== v);
      if (changed.length === 0) continue;
      const row = (await db
        .updateTable(table)
        .set(Object.fromEntries(changed))
        .where(sql.ref('id'), '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow()) as Row;
      announce(row);
    }
    const gone = [...existing.values()].map((r) => r.id as number);
    if (gone.length > 0) await db.deleteFrom(table).where(sql.ref('id'), 'in', gone).execute();
  }
}
