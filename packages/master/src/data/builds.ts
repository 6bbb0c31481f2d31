// Builds, their properties and per-build metrics.
import { sql } from 'kysely';
import type { Result } from '../results.js';
import { type KnownRequest, knownBranchKey, recordBlameBuild, recordBlameResult } from './blame.js';
import { type DataContext, forUpdate } from './context.js';
import { NotFoundError } from './errors.js';
import { recordReportEvent } from './report-events.js';

export interface BuildRow {
  readonly id: number;
  readonly number: number;
  readonly builderid: number;
  readonly buildrequestid: number;
  readonly workerid: number | null;
  readonly masterid: number;
  readonly startedAt: number;
  readonly completeAt: number | null;
  readonly stateString: string;
  readonly results: Result | null;
}

export interface NewBuild {
  readonly builderid: number;
  readonly buildrequestid: number;
  readonly workerid: number | null;
  readonly masterid: number;
  readonly stateString?: string;
  /** The request as the distributor read it: spares reads while the builder is locked. */
  readonly request?: KnownRequest;
}

export interface MetricPoint {
  readonly buildid: number;
  readonly builderid: number;
  readonly number: number;
  readonly value: number;
  readonly recordedAt: number;
}

type Row = {
  id: number;
  number: number;
  builderid: number;
  buildrequestid: number;
  workerid: number | null;
  masterid: number;
  started_at: number;
  complete_at: number | null;
  state_string: string;
  results: number | null;
};

function toBuild(r: Row): BuildRow {
  return {
    id: r.id,
    number: r.number,
    builderid: r.builderid,
    buildrequestid: r.buildrequestid,
    workerid: r.workerid,
    masterid: r.masterid,
    startedAt: r.started_at,
    completeAt: r.complete_at,
    stateString: r.state_string,
    results: r.results as Result | null,
  };
}

export class BuildsData {
  constructor(private readonly ctx: DataContext) {}

  /** Creates a build with the builder's next number. */
  async add(spec: NewBuild): Promise<{ buildid: number; number: number }> {
    const created =
      (this.ctx.dialect === 'postgres' &&
        spec.request &&
        (await this.#addInOneStatement(spec, spec.request))) ||
      (await this.#addLocked(spec));
    this.ctx.bus.publish('build.started', {
      buildid: created.buildid,
      builderid: spec.builderid,
      number: created.number,
      buildrequestid: spec.buildrequestid,
      workerid: spec.workerid,
      masterid: spec.masterid,
    });
    return created;
  }

  /**
   * On PostgreSQL with the request known: the build, its blame record and its report event
   * in one statement (one round trip, not seven, before every build's first command). It
   * takes the builder's lock as `#addLocked` does, so the two never number alike; but a
   * statement reads with the snapshot it began with, so one that waited for the lock may
   * count from a stale number: the unique (builderid, number) constraint refuses it and it
   * tries again (a fresh snapshot), after a few refusals in a transaction of its own.
   */
  async #addInOneStatement(
    spec: NewBuild,
    request: KnownRequest,
  ): Promise<{ buildid: number; number: number } | null> {
    const at = this.ctx.now();
    const branchKey = knownBranchKey(request);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const r = await sql<{ buildid: number; number: number }>`
          with locked as (
            select id from builders where id = ${spec.builderid} for no key update),
          next as (
            select coalesce(max(number), 0) + 1 as number from builds where builderid = (select id from locked)),
          build as (
            insert into builds (number, builderid, buildrequestid, workerid, masterid, started_at, complete_at,
                                state_string, results)
            select next.number, ${spec.builderid}::integer, ${spec.buildrequestid}::integer, ${spec.workerid}::integer,
                   ${spec.masterid}::integer,
                   ${at}::bigint, null, ${spec.stateString ?? 'starting'}::text, null
            from next
            returning id, number),
          blame as (
            insert into blame_builds (buildid, builderid, branch_key, number, buildsetid)
            select build.id, ${spec.builderid}::integer, ${branchKey}::text, build.number, ${request.buildsetid}::integer
            from build where ${branchKey}::text is not null),
          event as (
            insert into report_events (kind, subject_id, at, details)
            select 'build-started', build.id, ${at}::bigint, '{}' from build)
          select id as buildid, number from build`.execute(this.ctx.db);
        return r.rows[0]!;
      } catch (err) {
        if ((err as { code?: unknown }).code !== '23505') throw err;
      }
    }
    return null;
  }

  async #addLocked(spec: NewBuild): Promise<{ buildid: number; number: number }> {
    const { db, now, dialect } = this.ctx;
    // max()+1 under a lock: SQLite's write transaction, PostgreSQL's lock on the builder's
    // row, so masters sharing a database number a builder's builds one at a time; the
    // unique (builderid, number) constraint stays as the guard.
    return db.transaction().execute(async (trx) => {
      await forUpdate(
        dialect,
        trx.selectFrom('builders').select('id').where('id', '=', spec.builderid),
      ).execute();
      const last = await trx
        .selectFrom('builds')
        .select('number')
        .where('builderid', '=', spec.builderid)
        .orderBy('number', 'desc')
        .limit(1)
        .executeTakeFirst();
      const number = (last?.number ?? 0) + 1;
      const row = await trx
        .insertInto('builds')
        .values({
          number,
          builderid: spec.builderid,
          buildrequestid: spec.buildrequestid,
          workerid: spec.workerid,
          masterid: spec.masterid,
          started_at: now(),
          complete_at: null,
          state_string: spec.stateString ?? 'starting',
          results: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordBlameBuild(
        trx,
        {
          buildid: row.id,
          builderid: spec.builderid,
          number,
          buildrequestid: spec.buildrequestid,
        },
        spec.request,
      );
      await recordReportEvent(trx, 'build-started', row.id, now());
      return { buildid: row.id, number };
    });
  }

  async get(buildid: number): Promise<BuildRow | undefined> {
    const r = await this.ctx.db.selectFrom('builds').selectAll().where('id', '=', buildid).executeTakeFirst();
    return r && toBuild(r);
  }

  async getByNumber(builderid: number, number: number): Promise<BuildRow | undefined> {
    const r = await this.ctx.db
      .selectFrom('builds')
      .selectAll()
      .where('builderid', '=', builderid)
      .where('number', '=', number)
      .executeTakeFirst();
    return r && toBuild(r);
  }

  /** Newest first, served by the (builderid, number) index. */
  async latestForBuilder(builderid: number, limit = 20): Promise<BuildRow[]> {
    const rows = await this.ctx.db
      .selectFrom('builds')
      .selectAll()
      .where('builderid', '=', builderid)
      .orderBy('number', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toBuild);
  }

  /** The ids of a builder's latest `limit` builds, newest first, along the (builderid, number) index. */
  async latestIds(builderid: number, limit: number): Promise<number[]> {
    const rows = await this.ctx.db
      .selectFrom('builds')
      .select('id')
      .where('builderid', '=', builderid)
      .orderBy('number', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * The id of every builder's latest build (highest number), builders without builds left
   * out: one index seek per builder on (builderid, number), so it costs the same with a
   * million builds as with a hundred. With `finished`, the latest finished build: a
   * builder's last result, which a build running now does not hide (the walk down the
   * index stops at the first finished build, past the few running ones).
   */
  async lastOfEveryBuilder(options: { readonly finished?: boolean } = {}): Promise<number[]> {
    const rows = await this.ctx.db
      .selectFrom('builders')
      .select((eb) => {
        let latest = eb
          .selectFrom('builds')
          .select('builds.id')
          .whereRef('builds.builderid', '=', 'builders.id')
          .orderBy('builds.number', 'desc')
          .limit(1);
        if (options.finished) latest = latest.where('builds.complete_at', 'is not', null);
        return latest.as('buildid');
      })
      .execute();
    return rows.flatMap((r) => (r.buildid === null ? [] : [r.buildid]));
  }

  /**
   * The ids of the latest `count` builds of every builder (or of `builderids`): per builder
   * one seek for its `count`-th newest number on the `(builderid, number)` index, then the
   * range above it, so the cost is builders × count whatever the history's length.
   */
  async latestOfBuilders(count: number, builderids?: readonly number[]): Promise<number[]> {
    if (builderids?.length === 0) return [];
    // CROSS JOIN keeps builders the outer loop on SQLite, whose planner would otherwise
    // walk all of builds and look each one's builder up.
    let q = this.ctx.db
      .selectFrom('builders')
      .crossJoin('builds')
      .select('builds.id')
      .whereRef('builds.builderid', '=', 'builders.id')
      .where(({ eb, selectFrom, fn }) =>
        eb(
          'builds.number',
          '>',
          fn.coalesce(
            selectFrom('builds as older')
              .select('older.number')
              .whereRef('older.builderid', '=', 'builders.id')
              .orderBy('older.number', 'desc')
              .limit(1)
              .offset(count),
            sql.lit(0),
          ),
        ),
      );
    if (builderids) q = q.where('builders.id', 'in', [...builderids]);
    const rows = await q.execute();
    return rows.map((r) => r.id);
  }

  async forRequest(buildrequestid: number): Promise<BuildRow[]> {
    const rows = await this.ctx.db
      .selectFrom('builds')
      .selectAll()
      .where('buildrequestid', '=', buildrequestid)
      .orderBy('id')
      .execute();
    return rows.map(toBuild);
  }

  async unfinishedOf(masterid: number): Promise<BuildRow[]> {
    const rows = await this.ctx.db
      .selectFrom('builds')
      .selectAll()
      .where('masterid', '=', masterid)
      .where('complete_at', 'is', null)
      .orderBy('id')
      .execute();
    return rows.map(toBuild);
  }

  /** `builderid`, when the caller knows it, saves reading the build first. */
  async setState(buildid: number, state: string, builderid?: number): Promise<void> {
    const known = builderid ?? (await this.#require(buildid)).builderid;
    const u = await this.ctx.db
      .updateTable('builds')
      .set({ state_string: state })
      .where('id', '=', buildid)
      .executeTakeFirst();
    if (u.numUpdatedRows === 0n) throw new NotFoundError('build', buildid);
    this.ctx.bus.publish('build.state', { buildid, builderid: known, state });
  }

  /** Finishes a build; a second call for the same build changes nothing and returns false. */
  async finish(buildid: number, results: Result, stateString?: string): Promise<boolean> {
    const b = await this.#require(buildid);
    const now = this.ctx.now();
    // The report event commits with the result: a crash cannot leave one without the other.
    const finished = await this.ctx.db.transaction().execute(async (trx) => {
      const u = await trx
        .updateTable('builds')
        .set({
          results,
          complete_at: now,
          ...(stateString === undefined ? {} : { state_string: stateString }),
        })
        .where('id', '=', buildid)
        .where('complete_at', 'is', null)
        .executeTakeFirst();
      if (u.numUpdatedRows === 0n) return false;
      await recordReportEvent(trx, 'build-finished', buildid, now);
      return true;
    });
    if (!finished) return false;
    await recordBlameResult(this.ctx.db, buildid, results);
    this.ctx.bus.publish('build.finished', { buildid, builderid: b.builderid, number: b.number, results });
    return true;
  }

  // What is stored here is shown as it is (the UI, `build.properties` on the bus), so a
  // build hands its properties over with secrets already masked (BuildRun does).
  async setProperty(buildid: number, name: string, value: unknown, source: string): Promise<void> {
    await this.setProperties(buildid, { [name]: [value, source] });
  }

  /** Sets several properties in one transaction and announces them in one `build.properties`. */
  async setProperties(
    buildid: number,
    properties: Readonly<Record<string, readonly [unknown, string]>>,
  ): Promise<void> {
    const entries = Object.entries(properties);
    if (entries.length === 0) return;
    // One statement for all of them: a build's first properties come a dozen at a time.
    await this.ctx.db
      .insertInto('build_properties')
      .values(
        entries.map(([name, [value, source]]) => ({ buildid, name, value: JSON.stringify(value), source })),
      )
      .onConflict((oc) =>
        oc.columns(['buildid', 'name']).doUpdateSet((eb) => ({
          value: eb.ref('excluded.value'),
          source: eb.ref('excluded.source'),
        })),
      )
      .execute();
    this.ctx.bus.publish('build.properties', { buildid, properties: { ...properties } });
  }

  async properties(buildid: number): Promise<Record<string, [unknown, string]>> {
    const rows = await this.ctx.db
      .selectFrom('build_properties')
      .select(['name', 'value', 'source'])
      .where('buildid', '=', buildid)
      .execute();
    const out: Record<string, [unknown, string]> = {};
    for (const r of rows) out[r.name] = [JSON.parse(r.value), r.source];
    return out;
  }

  /** Records a numeric measurement of a build (test counts, durations, sizes…). */
  async setMetric(buildid: number, name: string, value: number): Promise<void> {
    const recorded_at = this.ctx.now();
    await this.ctx.db
      .insertInto('build_metrics')
      .values({ buildid, name, value, recorded_at })
      .onConflict((oc) => oc.columns(['buildid', 'name']).doUpdateSet({ value, recorded_at }))
      .execute();
  }

  /** A metric across a builder's builds, oldest first: the data for a trend chart. */
  async metricHistory(name: string, builderid: number, limit = 100): Promise<MetricPoint[]> {
    const rows = await this.ctx.db
      .selectFrom('build_metrics as m')
      .innerJoin('builds as b', 'b.id', 'm.buildid')
      .select(['m.buildid', 'b.builderid', 'b.number', 'm.value', 'm.recorded_at'])
      .where('m.name', '=', name)
      .where('b.builderid', '=', builderid)
      .orderBy('m.buildid', 'desc')
      .limit(limit)
      .execute();
    return rows
      .map((r) => ({
        buildid: r.buildid,
        builderid: r.builderid,
        number: r.number,
        value: r.value,
        recordedAt: r.recorded_at,
      }))
      .reverse();
  }

  async #require(buildid: number): Promise<BuildRow> {
    const b = await this.get(buildid);
    if (!b) throw new NotFoundError('build', buildid);
    return b;
  }
}
