// Buildsets: one decision to build some source stamps on some builders, which becomes
// one build request per builder.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Result } from '../results.js';
import { worstResult } from '../results.js';
import type { DataContext } from './context.js';
import { recordReportEvent } from './report-events.js';

export interface BuildsetSpec {
  readonly sourcestampids: readonly number[];
  readonly builderids: readonly number[];
  readonly reason?: string | null;
  readonly properties?: Readonly<Record<string, unknown>>;
  /**
   * Where `properties` came from, recorded with each and kept by the builds (Buildbot:
   * "Trigger" for a trigger step's, "Force Build Form", "Scheduler"); default "Buildset".
   */
  readonly propertiesSource?: string;
  /** Per-property sources that differ from `propertiesSource`. */
  readonly propertySources?: Readonly<Record<string, string>>;
  /** Higher runs first; default 0. */
  readonly priority?: number;
  readonly externalIdstring?: string | null;
  /** Epoch seconds; defaults to now. */
  readonly submittedAt?: number;
  readonly parentBuildid?: number | null;
  readonly parentRelationship?: string | null;
  /** Every change the buildset stands for (a tree-stable scheduler's several); kept for blamelists. */
  readonly changeids?: readonly number[];
  /** More writes that must commit with the buildset, or not at all (a scheduler's state). */
  readonly alsoInTransaction?: (trx: Kysely<Database>) => Promise<void>;
}

export interface AddedBuildset {
  readonly buildsetid: number;
  /** Build request id per builder id. */
  readonly buildrequestids: ReadonlyMap<number, number>;
}

export interface BuildsetRow {
  readonly id: number;
  readonly reason: string | null;
  readonly submittedAt: number;
  readonly complete: boolean;
  readonly completeAt: number | null;
  readonly results: Result | null;
  readonly sourcestampids: readonly number[];
}

export class BuildsetsData {
  constructor(private readonly ctx: DataContext) {}

  async add(spec: BuildsetSpec): Promise<AddedBuildset> {
    const { db, now } = this.ctx;
    const submittedAt = spec.submittedAt ?? now();
    const priority = spec.priority ?? 0;
    // On PostgreSQL one statement writes it all (a round trip, not a transaction's eight on
    // the path from a change to its build); what must commit with it needs the transaction.
    const result =
      this.ctx.dialect === 'postgres' && !spec.alsoInTransaction
        ? await this.#addInOneStatement(spec, submittedAt, priority)
        : await db.transaction().execute(async (trx) => {
            const bs = await trx
              .insertInto('buildsets')
              .values({
                external_idstring: spec.externalIdstring ?? null,
                reason: spec.reason ?? null,
                submitted_at: submittedAt,
                complete: 0,
                complete_at: null,
                results: null,
                parent_buildid: spec.parentBuildid ?? null,
                parent_relationship: spec.parentRelationship ?? null,
              })
              .returning('id')
              .executeTakeFirstOrThrow();
            if (spec.sourcestampids.length > 0) {
              await trx
                .insertInto('buildset_sourcestamps')
                .values(spec.sourcestampids.map((sourcestampid) => ({ buildsetid: bs.id, sourcestampid })))
                .execute();
            }
            const changeids = [...new Set(spec.changeids ?? [])];
            if (changeids.length > 0) {
              await trx
                .insertInto('buildset_changes')
                .values(changeids.map((changeid) => ({ buildsetid: bs.id, changeid })))
                .execute();
            }
            const props = Object.entries(spec.properties ?? {});
            const source = spec.propertiesSource ?? 'Buildset';
            if (props.length > 0) {
              await trx
                .insertInto('buildset_properties')
                .values(
                  props.map(([name, value]) => ({
                    buildsetid: bs.id,
                    property_name: name,
                    property_value: JSON.stringify([value, spec.propertySources?.[name] ?? source]),
                  })),
                )
                .execute();
            }
            const brids = new Map<number, number>();
            for (const builderid of spec.builderids) {
              const br = await trx
                .insertInto('buildrequests')
                .values({
                  buildsetid: bs.id,
                  builderid,
                  priority,
                  submitted_at: submittedAt,
                  claimed_by_master: null,
                  claimed_at: null,
                  complete: 0,
                  results: null,
                  complete_at: null,
                  waited_for: 0,
                })
                .returning('id')
                .executeTakeFirstOrThrow();
              brids.set(builderid, br.id);
            }
            await spec.alsoInTransaction?.(trx);
            return { buildsetid: bs.id, buildrequestids: brids };
          });
    const { bus } = this.ctx;
    bus.publish('buildset.new', {
      buildsetid: result.buildsetid,
      buildrequestids: [...result.buildrequestids.values()],
      builderids: [...result.buildrequestids.keys()],
      reason: spec.reason ?? null,
    });
    for (const [builderid, buildrequestid] of result.buildrequestids) {
      bus.publish('buildrequest.new', { buildrequestid, buildsetid: result.buildsetid, builderid, priority });
    }
    return result;
  }

  /**
   * The buildset, its source stamps, changes, properties and requests in one statement
   * (PostgreSQL's data-modifying WITH; the foreign keys are checked at its end, when the
   * buildset row exists). Requests get their ids in the order of `builderids`.
   */
  async #addInOneStatement(
    spec: BuildsetSpec,
    submittedAt: number,
    priority: number,
  ): Promise<AddedBuildset> {
    const source = spec.propertiesSource ?? 'Buildset';
    const props = Object.entries(spec.properties ?? {});
    const r = await sql<{ buildsetid: number; builderid: number | null; id: number | null }>`
      with bs as (
        insert into buildsets (external_idstring, reason, submitted_at, complete, complete_at, results,
                               parent_buildid, parent_relationship)
        values (${spec.externalIdstring ?? null}, ${spec.reason ?? null}, ${submittedAt}, 0, null, null,
                ${spec.parentBuildid ?? null}, ${spec.parentRelationship ?? null})
        returning id),
      stamps as (
        insert into buildset_sourcestamps (buildsetid, sourcestampid)
        select bs.id, s from bs, unnest(${[...spec.sourcestampids]}::integer[]) as s),
      changes as (
        insert into buildset_changes (buildsetid, changeid)
        select bs.id, c from bs, unnest(${[...new Set(spec.changeids ?? [])]}::integer[]) as c),
      props as (
        insert into buildset_properties (buildsetid, property_name, property_value)
        select bs.id, p.name, p.value
        from bs, unnest(${props.map(([name]) => name)}::text[],
                        ${props.map(([name, value]) => JSON.stringify([value, spec.propertySources?.[name] ?? source]))}::text[])
             as p(name, value)),
      requests as (
        insert into buildrequests (buildsetid, builderid, priority, submitted_at, claimed_by_master, claimed_at,
                                   complete, results, complete_at, waited_for)
        select bs.id, b.builderid, ${priority}, ${submittedAt}, null, null, 0, null, null, 0
        from bs, unnest(${[...spec.builderids]}::integer[]) with ordinality as b(builderid, n)
        order by b.n
        returning id, builderid)
      select bs.id as buildsetid, requests.builderid, requests.id
      from bs left join requests on true
      order by requests.id`.execute(this.ctx.db);
    const brids = new Map<number, number>();
    for (const row of r.rows) if (row.builderid !== null && row.id !== null) brids.set(row.builderid, row.id);
    return { buildsetid: r.rows[0]!.buildsetid, buildrequestids: brids };
  }

  async get(buildsetid: number): Promise<BuildsetRow | undefined> {
    const { db } = this.ctx;
    const row = await db.selectFrom('buildsets').selectAll().where('id', '=', buildsetid).executeTakeFirst();
    if (!row) return undefined;
    const ss = await db
      .selectFrom('buildset_sourcestamps')
      .select('sourcestampid')
      .where('buildsetid', '=', buildsetid)
      .orderBy('sourcestampid')
      .execute();
    return {
      id: row.id,
      reason: row.reason,
      submittedAt: row.submitted_at,
      complete: row.complete === 1,
      completeAt: row.complete_at,
      results: row.results as Result | null,
      sourcestampids: ss.map((s) => s.sourcestampid),
    };
  }

  async properties(buildsetid: number): Promise<Record<string, [unknown, string]>> {
    const rows = await this.ctx.db
      .selectFrom('buildset_properties')
      .select(['property_name', 'property_value'])
      .where('buildsetid', '=', buildsetid)
      .execute();
    const out: Record<string, [unknown, string]> = {};
    for (const r of rows) out[r.property_name] = JSON.parse(r.property_value) as [unknown, string];
    return out;
  }

  /**
   * Completes the buildset once all its requests are complete, with the worst of their
   * results. Safe to call repeatedly and from several processes on one database: only one
   * update wins.
   */
  async maybeComplete(buildsetid: number): Promise<boolean> {
    const { db, now } = this.ctx;
    const reqs = await db
      .selectFrom('buildrequests')
      .select(['complete', 'results'])
      .where('buildsetid', '=', buildsetid)
      .execute();
    if (reqs.some((r) => r.complete !== 1)) return false;
    let results: Result | null = null;
    for (const r of reqs) results = worstResult(results, r.results as Result | null);
    const final = results ?? 0;
    const at = now();
    const completed = await db.transaction().execute(async (trx) => {
      const u = await trx
        .updateTable('buildsets')
        .set({ complete: 1, complete_at: at, results: final })
        .where('id', '=', buildsetid)
        .where('complete', '=', 0)
        .executeTakeFirst();
      if (u.numUpdatedRows === 0n) return false;
      await recordReportEvent(trx, 'buildset-finished', buildsetid, at);
      return true;
    });
    if (!completed) return false;
    this.ctx.bus.publish('buildset.complete', { buildsetid, results: final });
    return true;
  }
}
