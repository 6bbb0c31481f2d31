// Per-build numeric metrics (step durations, warning and test counts, artifact sizes…) and
// their history per builder. "Metric M of builder B over its last N builds" is one query:
// the (builderid, number) unique index yields the last N builds without a sort, and the
// (buildid, name) unique index finds each build's value, so its cost follows N, not the
// size of the table.
import type { DataContext } from './context.js';
import { batches } from './context.js';

export interface MetricSample {
  readonly buildid: number;
  readonly number: number;
  readonly value: number;
  readonly recordedAt: number;
}

export class InvalidMetricError extends Error {
  override readonly name = 'InvalidMetricError';
  constructor(
    readonly metric: string,
    readonly value: unknown,
  ) {
    super(`metric ${JSON.stringify(metric)}: ${String(value)} is not a finite number`);
  }
}

export class MetricsData {
  constructor(private readonly ctx: DataContext) {}

  /** Records (or replaces) several metrics of a build in one transaction. */
  async record(buildid: number, values: Readonly<Record<string, number>>): Promise<void> {
    const entries = Object.entries(values);
    for (const [name, value] of entries) {
      if (!name || typeof value !== 'number' || !Number.isFinite(value))
        throw new InvalidMetricError(name, value);
    }
    if (entries.length === 0) return;
    const recorded_at = this.ctx.now();
    await this.ctx.db.transaction().execute(async (trx) => {
      for (const chunk of batches(entries, 100)) {
        await trx
          .insertInto('build_metrics')
          .values(chunk.map(([name, value]) => ({ buildid, name, value, recorded_at })))
          .onConflict((oc) =>
            oc.columns(['buildid', 'name']).doUpdateSet((eb) => ({
              value: eb.ref('excluded.value'),
              recorded_at: eb.ref('excluded.recorded_at'),
            })),
          )
          .execute();
      }
    });
  }

  /** The metrics of each of `buildids`, in one read. */
  async forBuilds(buildids: readonly number[]): Promise<Map<number, Record<string, number>>> {
    const out = new Map<number, Record<string, number>>(buildids.map((id) => [id, {}]));
    if (buildids.length === 0) return out;
    const rows = await this.ctx.db
      .selectFrom('build_metrics')
      .select(['buildid', 'name', 'value'])
      .where('buildid', 'in', buildids)
      .execute();
    for (const r of rows) {
      const m = out.get(r.buildid);
      if (m) m[r.name] = r.value;
    }
    return out;
  }

  async forBuild(buildid: number): Promise<Record<string, number>> {
    const rows = await this.ctx.db
      .selectFrom('build_metrics')
      .select(['name', 'value'])
      .where('buildid', '=', buildid)
      .execute();
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }

  /**
   * `name` over the builder's last `lastBuilds` builds, oldest first. Builds that did not
   * record the metric give no sample.
   */
  async series(builderid: number, name: string, lastBuilds: number): Promise<MetricSample[]> {
    return (await this.seriesMany(builderid, [name], lastBuilds)).get(name) ?? [];
  }

  /** Several metrics over the same window of builds, in one query. */
  async seriesMany(
    builderid: number,
    names: readonly string[],
    lastBuilds: number,
  ): Promise<Map<string, MetricSample[]>> {
    const out = new Map<string, MetricSample[]>(names.map((n) => [n, []]));
    if (names.length === 0 || lastBuilds <= 0) return out;
    const db = this.ctx.db;
    const rows = await db
      .selectFrom('build_metrics as m')
      .innerJoin('builds as b', 'b.id', 'm.buildid')
      .select(['m.name', 'm.buildid', 'b.number', 'm.value', 'm.recorded_at'])
      .where(
        'm.buildid',
        'in',
        db
          .selectFrom('builds')
          .select('id')
          .where('builderid', '=', builderid)
          .orderBy('number', 'desc')
          .limit(Math.floor(lastBuilds)),
      )
      .where('m.name', 'in', [...names])
      .execute();
    rows.sort((a, b) => a.number - b.number);
    for (const r of rows) {
      out
        .get(r.name)
        ?.push({ buildid: r.buildid, number: r.number, value: r.value, recordedAt: r.recorded_at });
    }
    return out;
  }

  /** Metric names a builder recorded in its last builds (for a UI's metric picker). */
  async namesForBuilder(builderid: number, lastBuilds = 50): Promise<string[]> {
    const db = this.ctx.db;
    const rows = await db
      .selectFrom('build_metrics')
      .select('name')
      .distinct()
      .where(
        'buildid',
        'in',
        db
          .selectFrom('builds')
          .select('id')
          .where('builderid', '=', builderid)
          .orderBy('number', 'desc')
          .limit(lastBuilds),
      )
      .orderBy('name')
      .execute();
    return rows.map((r) => r.name);
  }
}
