// Build requests and their claims. A claim is one conditional UPDATE
// (`… WHERE claimed_by_master IS NULL AND complete = 0`) whose affected-row count must equal
// the number of requests asked for, inside a transaction that is rolled back otherwise.
// That is atomic on SQLite (one writer at a time) and on PostgreSQL (row locks, re-checked
// predicate), so any number of masters can share one database (test/claims.test.ts races
// processes on both).

import type { Result } from '../results.js';
import { BISECT_OF_PROPERTY } from './blame.js';
import type { BuildsetsData } from './buildsets.js';
import { batches, type DataContext } from './context.js';
import { AlreadyClaimedError, NotClaimedError } from './errors.js';

export interface BuildRequestRow {
  readonly id: number;
  readonly buildsetid: number;
  readonly builderid: number;
  readonly priority: number;
  readonly submittedAt: number;
  readonly claimedByMaster: number | null;
  readonly claimedAt: number | null;
  readonly complete: boolean;
  readonly results: Result | null;
  readonly completeAt: number | null;
}

/** A source stamp as request collapsing compares them. */
export interface SourceSummary {
  readonly sourcestampid: number;
  readonly codebase: string;
  readonly repository: string;
  readonly branch: string | null;
  readonly project: string;
  readonly revision: string | null;
  readonly hasPatch: boolean;
  readonly hasChanges: boolean;
}

/** An unclaimed request with what the distributor needs to order and collapse it. */
interface ClaimedRequest {
  readonly id: number;
  readonly builderid: number;
}

export interface PendingRequest {
  readonly id: number;
  readonly buildsetid: number;
  readonly builderid: number;
  readonly priority: number;
  readonly submittedAt: number;
  readonly sources: readonly SourceSummary[];
  /** True for a bisection build's request (bisect/): it is never collapsed with another. */
  readonly bisection?: boolean;
}

type Row = {
  id: number;
  buildsetid: number;
  builderid: number;
  priority: number;
  submitted_at: number;
  claimed_by_master: number | null;
  claimed_at: number | null;
  complete: number;
  results: number | null;
  complete_at: number | null;
};

function toRequest(r: Row): BuildRequestRow {
  return {
    id: r.id,
    buildsetid: r.buildsetid,
    builderid: r.builderid,
    priority: r.priority,
    submittedAt: r.submitted_at,
    claimedByMaster: r.claimed_by_master,
    claimedAt: r.claimed_at,
    complete: r.complete === 1,
    results: r.results as Result | null,
    completeAt: r.complete_at,
  };
}

export class BuildRequestsData {
  constructor(
    private readonly ctx: DataContext,
    private readonly buildsets: BuildsetsData,
  ) {}

  async get(id: number): Promise<BuildRequestRow | undefined> {
    const r = await this.ctx.db
      .selectFrom('buildrequests')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return r && toRequest(r);
  }

  async getMany(ids: readonly number[]): Promise<BuildRequestRow[]> {
    const out: BuildRequestRow[] = [];
    for (const batch of batches(ids)) {
      const rows = await this.ctx.db
        .selectFrom('buildrequests')
        .selectAll()
        .where('id', 'in', batch)
        .execute();
      out.push(...rows.map(toRequest));
    }
    return out.sort((a, b) => a.id - b.id);
  }

  /**
   * Claims all of `ids` for `masterid`, or none: throws AlreadyClaimedError if any is
   * claimed or complete already.
   */
  async claim(ids: readonly number[], masterid: number): Promise<void> {
    if (ids.length === 0) return;
    const unique = [...new Set(ids)];
    const claimedAt = this.ctx.now();
    const builderOf =
      unique.length === 1
        ? await this.#claimOne(unique[0]!, masterid, claimedAt)
        : await this.#claimAll(unique, masterid, claimedAt);
    for (const r of builderOf) {
      this.ctx.bus.publish('buildrequest.claimed', {
        buildrequestid: r.id,
        builderid: r.builderid,
        masterid,
      });
    }
  }

  /**
   * One request (nothing collapsed into it: the common case) in one statement, all or
   * nothing by itself: one round trip on the path to every build's start, not a
   * transaction's four.
   */
  async #claimOne(id: number, masterid: number, claimedAt: number): Promise<ClaimedRequest[]> {
    const rows = await this.ctx.db
      .updateTable('buildrequests')
      .set({ claimed_by_master: masterid, claimed_at: claimedAt })
      .where('id', '=', id)
      .where('claimed_by_master', 'is', null)
      .where('complete', '=', 0)
      .returning(['id', 'builderid'])
      .execute();
    if (rows.length !== 1) throw new AlreadyClaimedError([id], masterid);
    return rows;
  }

  async #claimAll(unique: readonly number[], masterid: number, claimedAt: number): Promise<ClaimedRequest[]> {
    return this.ctx.db
      .transaction()
      .execute(async (trx) => {
        let updated = 0n;
        for (const batch of batches(unique)) {
          const r = await trx
            .updateTable('buildrequests')
            .set({ claimed_by_master: masterid, claimed_at: claimedAt })
            .where('id', 'in', batch)
            .where('claimed_by_master', 'is', null)
            .where('complete', '=', 0)
            .executeTakeFirst();
          updated += r.numUpdatedRows;
        }
        // Throwing rolls the whole transaction back, so a partial claim never persists.
        if (updated !== BigInt(unique.length)) throw new AlreadyClaimedError(unique, masterid);
        const rows: ClaimedRequest[] = [];
        for (const batch of batches(unique)) {
          rows.push(
            ...(await trx
              .selectFrom('buildrequests')
              .select(['id', 'builderid'])
              .where('id', 'in', batch)
              .execute()),
          );
        }
        return rows;
      })
      .catch((err: unknown) => {
        // Two masters claiming overlapping requests in different row orders: PostgreSQL
        // aborts one of them (deadlock_detected), and the other gets the requests.
        if ((err as { code?: unknown }).code === '40P01') throw new AlreadyClaimedError(unique, masterid);
        throw err;
      });
  }

  /** Gives requests back (e.g. the build could not start); only this master's, only incomplete ones. */
  async unclaim(ids: readonly number[], masterid: number): Promise<number> {
    if (ids.length === 0) return 0;
    const { db } = this.ctx;
    const released: { id: number; builderid: number }[] = [];
    await db.transaction().execute(async (trx) => {
      for (const batch of batches([...new Set(ids)])) {
        const rows = await trx
          .selectFrom('buildrequests')
          .select(['id', 'builderid'])
          .where('id', 'in', batch)
          .where('claimed_by_master', '=', masterid)
          .where('complete', '=', 0)
          .execute();
        if (rows.length === 0) continue;
        await trx
          .updateTable('buildrequests')
          .set({ claimed_by_master: null, claimed_at: null })
          .where(
            'id',
            'in',
            rows.map((r) => r.id),
          )
          .execute();
        released.push(...rows);
      }
    });
    for (const r of released) {
      this.ctx.bus.publish('buildrequest.unclaimed', { buildrequestid: r.id, builderid: r.builderid });
    }
    return released.length;
  }

  /** Releases every incomplete request `masterid` holds (its housekeeping after a crash). */
  async unclaimAllOf(masterid: number): Promise<number[]> {
    const rows = await this.ctx.db
      .selectFrom('buildrequests')
      .select('id')
      .where('claimed_by_master', '=', masterid)
      .where('complete', '=', 0)
      .execute();
    const ids = rows.map((r) => r.id);
    await this.unclaim(ids, masterid);
    return ids;
  }

  /**
   * Marks requests complete. They must be claimed by `masterid`, as in Buildbot — a master
   * that lost its claim (expired, taken over) must not overwrite another's outcome.
   */
  async complete(ids: readonly number[], results: Result, masterid: number): Promise<void> {
    if (ids.length === 0) return;
    const { db, now } = this.ctx;
    const unique = [...new Set(ids)];
    const completeAt = now();
    const rows = await db.transaction().execute(async (trx) => {
      let updated = 0n;
      for (const batch of batches(unique)) {
        const r = await trx
          .updateTable('buildrequests')
          .set({ complete: 1, results, complete_at: completeAt })
          .where('id', 'in', batch)
          .where('claimed_by_master', '=', masterid)
          .where('complete', '=', 0)
          .executeTakeFirst();
        updated += r.numUpdatedRows;
      }
      if (updated !== BigInt(unique.length)) throw new NotClaimedError(unique, masterid);
      const out: { id: number; builderid: number; buildsetid: number }[] = [];
      for (const batch of batches(unique)) {
        out.push(
          ...(await trx
            .selectFrom('buildrequests')
            .select(['id', 'builderid', 'buildsetid'])
            .where('id', 'in', batch)
            .execute()),
        );
      }
      return out;
    });
    for (const r of rows) {
      this.ctx.bus.publish('buildrequest.complete', {
        buildrequestid: r.id,
        builderid: r.builderid,
        buildsetid: r.buildsetid,
        results,
      });
    }
    for (const buildsetid of new Set(rows.map((r) => r.buildsetid))) {
      await this.buildsets.maybeComplete(buildsetid);
    }
  }

  /**
   * A page of a builder's unclaimed requests, highest priority first, then oldest. Served
   * by the `buildrequests_pending` index, so it stays fast with many thousands pending.
   */
  async pendingForBuilder(builderid: number, limit = 100): Promise<PendingRequest[]> {
    const { db } = this.ctx;
    const rows = await db
      .selectFrom('buildrequests')
      .select(['id', 'buildsetid', 'builderid', 'priority', 'submitted_at'])
      .where('builderid', '=', builderid)
      .where('complete', '=', 0)
      .where('claimed_by_master', 'is', null)
      .orderBy('priority', 'desc')
      .orderBy('submitted_at', 'asc')
      .orderBy('id', 'asc')
      .limit(limit)
      .execute();
    if (rows.length === 0) return [];
    const buildsetids = [...new Set(rows.map((r) => r.buildsetid))];
    // Two reads at once: on PostgreSQL each is a round trip on a connection of its own.
    const [sources, bisections] = await Promise.all([
      this.#sourcesOf(buildsetids),
      this.#bisectionsAmong(buildsetids),
    ]);
    return rows.map((r) => ({
      id: r.id,
      buildsetid: r.buildsetid,
      builderid: r.builderid,
      priority: r.priority,
      submittedAt: r.submitted_at,
      sources: sources.get(r.buildsetid) ?? [],
      ...(bisections.has(r.buildsetid) ? { bisection: true } : {}),
    }));
  }

  async countPending(builderid?: number): Promise<number> {
    let q = this.ctx.db
      .selectFrom('buildrequests')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('complete', '=', 0)
      .where('claimed_by_master', 'is', null);
    if (builderid !== undefined) q = q.where('builderid', '=', builderid);
    const r = await q.executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async #bisectionsAmong(buildsetids: number[]): Promise<Set<number>> {
    const out = new Set<number>();
    for (const batch of batches(buildsetids)) {
      const rows = await this.ctx.db
        .selectFrom('buildset_properties')
        .select('buildsetid')
        .where('buildsetid', 'in', batch)
        .where('property_name', '=', BISECT_OF_PROPERTY)
        .execute();
      for (const r of rows) out.add(r.buildsetid);
    }
    return out;
  }

  async #sourcesOf(buildsetids: number[]): Promise<Map<number, SourceSummary[]>> {
    const { db } = this.ctx;
    const out = new Map<number, SourceSummary[]>();
    for (const batch of batches(buildsetids)) {
      const rows = await db
        .selectFrom('buildset_sourcestamps as bss')
        .innerJoin('sourcestamps as ss', 'ss.id', 'bss.sourcestampid')
        .select((eb) => [
          'bss.buildsetid',
          'ss.id',
          'ss.codebase',
          'ss.repository',
          'ss.branch',
          'ss.project',
          'ss.revision',
          'ss.patchid',
          eb
            .exists(
              eb.selectFrom('changes').select('changes.id').whereRef('changes.sourcestampid', '=', 'ss.id'),
            )
            .as('has_changes'),
        ])
        .where('bss.buildsetid', 'in', batch)
        .execute();
      for (const r of rows) {
        const list = out.get(r.buildsetid) ?? [];
        list.push({
          sourcestampid: r.id,
          codebase: r.codebase,
          repository: r.repository,
          branch: r.branch,
          project: r.project,
          revision: r.revision,
          hasPatch: r.patchid !== null,
          hasChanges: Boolean(r.has_changes),
        });
        out.set(r.buildsetid, list);
      }
    }
    return out;
  }
}
