// Blamelists: the changes since the last build of the same builder and branch that passed
// (SUCCESS or WARNINGS) — the build's own changes plus those of the failing or unfinished
// builds in between. Each ordinary build gets a `blame_builds` row when it is created (in
// the same transaction) and is marked passed when it finishes, so a blamelist is one index
// seek for the last pass and one index range for the builds since, never a history scan.
// Requests that ended without a build (collapsed into a later one, or cancelled) between
// the two add their changes too.
// Bisection builds (buildset property BISECT_OF_PROPERTY) get no row: they never blame,
// are never blamed and never count as the last pass.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { type Result, SUCCESS, WARNINGS } from '../results.js';
import type { ChangeRow, ChangesData } from './changes.js';
import { batches, type DataContext } from './context.js';

/** The buildset property that marks a bisection build; its value is the failing build's id. */
export const BISECT_OF_PROPERTY = 'bisect_of';

/** Builds looked at behind a failing one; a branch that has failed longer is cut here. */
export const MAX_BLAME_BUILDS = 500;

export interface Blamelist {
  readonly buildid: number;
  /** The last passing build of the same builder and branch before it; null when none is known. */
  readonly since: { readonly buildid: number; readonly number: number } | null;
  /** The builds whose changes are blamed, oldest first, this build last. */
  readonly buildids: readonly number[];
  /** Oldest first. */
  readonly changes: readonly ChangeRow[];
  /** True when more than MAX_BLAME_BUILDS builds failed in a row and the oldest were left out. */
  readonly truncated: boolean;
}

export function passes(results: Result | number): boolean {
  return results === SUCCESS || results === WARNINGS;
}

/**
 * Records a new build for blamelists; called inside the transaction that creates it.
 * Returns false for a bisection build, which gets no row.
 */
export async function recordBlameBuild(
  trx: Transaction<Database> | Kysely<Database>,
  build: { buildid: number; builderid: number; number: number; buildrequestid: number },
  known?: KnownRequest,
): Promise<boolean> {
  let buildsetid = known?.buildsetid;
  let branchKey: string | null;
  if (known) {
    branchKey = knownBranchKey(known);
  } else {
    const request = await trx
      .selectFrom('buildrequests')
      .select('buildsetid')
      .where('id', '=', build.buildrequestid)
      .executeTakeFirst();
    if (!request) return false;
    buildsetid = request.buildsetid;
    branchKey = await branchKeyOf(trx, request.buildsetid);
  }
  if (branchKey === null || buildsetid === undefined) return false;
  await trx
    .insertInto('blame_builds')
    .values({
      buildid: build.buildid,
      builderid: build.builderid,
      branch_key: branchKey,
      number: build.number,
      buildsetid,
    })
    .execute();
  return true;
}

/**
 * What the distributor already read of a request (data/buildrequests.ts `PendingRequest`):
 * given to `BuildsData.add`, it spares the reads of the build's numbering transaction,
 * which holds the builder's lock.
 */
export interface KnownRequest {
  readonly buildsetid: number;
  readonly sources: readonly { readonly codebase: string; readonly branch: string | null }[];
  /** A bisection build's: it gets no blame record. */
  readonly bisection?: boolean;
}

/** The `branch_key` a build of this request is recorded under; null: none (a bisection's). */
export function knownBranchKey(known: KnownRequest): string | null {
  return known.bisection ? null : branchKeyOfSources(known.sources);
}

/** A buildset's (codebase, branch) pairs, sorted, as stored in `branch_key`. */
function branchKeyOfSources(sources: readonly { codebase: string; branch: string | null }[]): string {
  return JSON.stringify(sources.map((s) => [s.codebase, s.branch ?? null] as const).sort(comparePairs));
}

/** The buildset's (codebase, branch) pairs as stored in `branch_key`; null for a bisection buildset. */
async function branchKeyOf(
  db: Transaction<Database> | Kysely<Database>,
  buildsetid: number,
): Promise<string | null> {
  const bisect = await db
    .selectFrom('buildset_properties')
    .select('property_name')
    .where('buildsetid', '=', buildsetid)
    .where('property_name', '=', BISECT_OF_PROPERTY)
    .executeTakeFirst();
  if (bisect) return null;
  const stamps = await db
    .selectFrom('buildset_sourcestamps')
    .innerJoin('sourcestamps', 'sourcestamps.id', 'buildset_sourcestamps.sourcestampid')
    .select(['sourcestamps.codebase', 'sourcestamps.branch'])
    .where('buildset_sourcestamps.buildsetid', '=', buildsetid)
    .execute();
  return branchKeyOfSources(stamps);
}

function comparePairs(a: readonly [string, string | null], b: readonly [string, string | null]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  const x = a[1] ?? '';
  const y = b[1] ?? '';
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Marks a finished build that passed; the next builds of its branch blame only what came after it. */
export async function recordBlameResult(
  db: Kysely<Database>,
  buildid: number,
  results: Result,
): Promise<void> {
  if (!passes(results)) return;
  await db.updateTable('blame_builds').set({ passed: 1 }).where('buildid', '=', buildid).execute();
}

export class BlameData {
  constructor(
    private readonly ctx: DataContext,
    private readonly changes: ChangesData,
  ) {}

  /** The build's blamelist; undefined when the build does not exist. */
  async blamelist(buildid: number): Promise<Blamelist | undefined> {
    const found = await this.#find(buildid);
    if (!found) return undefined;
    const changes = await this.changes.getMany(found.changeids);
    const { since, buildids, truncated } = found;
    return { buildid, since, buildids, changes, truncated };
  }

  /** The ids of a blamelist's changes, oldest first (what the data API path constrains). */
  async changeids(buildid: number): Promise<readonly number[] | undefined> {
    return (await this.#find(buildid))?.changeids;
  }

  async #find(
    buildid: number,
  ): Promise<
    (Omit<Blamelist, 'changes' | 'buildid'> & { readonly changeids: readonly number[] }) | undefined
  > {
    const { db } = this.ctx;
    // Both builds' requests come along: they bound the search for unbuilt requests.
    const own = await db
      .selectFrom('blame_builds')
      .innerJoin('builds', 'builds.id', 'blame_builds.buildid')
      .select([
        'blame_builds.builderid',
        'blame_builds.branch_key',
        'blame_builds.number',
        'builds.buildrequestid',
      ])
      .where('blame_builds.buildid', '=', buildid)
      .executeTakeFirst();
    if (!own) {
      // A bisection build, or one from before blamelists were recorded: its own changes.
      const build = await db.selectFrom('builds').select('id').where('id', '=', buildid).executeTakeFirst();
      if (!build) return undefined;
      const changeids = (await this.changes.ofBuild(buildid)).map((c) => c.id);
      return { since: null, buildids: [buildid], changeids, truncated: false };
    }
    const since = await db
      .selectFrom('blame_builds')
      .innerJoin('builds', 'builds.id', 'blame_builds.buildid')
      .select(['blame_builds.buildid', 'blame_builds.number', 'builds.buildrequestid'])
      .where('blame_builds.builderid', '=', own.builderid)
      .where('blame_builds.branch_key', '=', own.branch_key)
      .where('blame_builds.passed', '=', 1)
      .where('blame_builds.number', '<', own.number)
      .orderBy('blame_builds.number', 'desc')
      .limit(1)
      .executeTakeFirst();
    const between = await db
      .selectFrom('blame_builds')
      .select(['buildid', 'buildsetid'])
      .where('builderid', '=', own.builderid)
      .where('branch_key', '=', own.branch_key)
      .where('number', '>', since?.number ?? 0)
      .where('number', '<=', own.number)
      .orderBy('number', 'desc')
      .limit(MAX_BLAME_BUILDS + 1)
      .execute();
    const builds = between.slice(0, MAX_BLAME_BUILDS).reverse();
    const unbuilt = await this.#unbuiltBuildsets(
      own.buildrequestid,
      since?.buildrequestid ?? 0,
      own.builderid,
      own.branch_key,
    );
    return {
      since: since ? { buildid: since.buildid, number: since.number } : null,
      buildids: builds.map((b) => b.buildid),
      changeids: await this.#changeidsOf([...builds.map((b) => b.buildsetid), ...unbuilt]),
      truncated: between.length > MAX_BLAME_BUILDS,
    };
  }

  /**
   * Buildsets of requests of this builder and branch that ended without a build since the
   * last pass: collapsed into a later build (SKIPPED) or cancelled while pending. Their
   * changes are in the tree of the next build all the same. An index range over the
   * builder's requests between the two builds' requests (`lower` 0 when no build passed).
   */
  async #unbuiltBuildsets(
    upper: number,
    lower: number,
    builderid: number,
    branchKey: string,
  ): Promise<number[]> {
    const { db } = this.ctx;
    const requests = await db
      .selectFrom('buildrequests')
      .select(['id', 'buildsetid'])
      .where('builderid', '=', builderid)
      .where('id', '>', lower)
      .where('id', '<', upper)
      .where('complete', '=', 1)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('builds')
              .select('builds.id')
              .whereRef('builds.buildrequestid', '=', 'buildrequests.id'),
          ),
        ),
      )
      .orderBy('id', 'desc')
      .limit(MAX_BLAME_BUILDS)
      .execute();
    const out: number[] = [];
    for (const r of requests) if ((await branchKeyOf(db, r.buildsetid)) === branchKey) out.push(r.buildsetid);
    return out;
  }

  /**
   * Changes of these buildsets: those a scheduler recorded, and those of their source
   * stamps (a forced build of a change's revision, a buildset from before recording).
   */
  async #changeidsOf(buildsetids: readonly number[]): Promise<number[]> {
    const ids = new Set<number>();
    // Two queries per batch of buildsets, not two per buildset: a blamelist spans up to
    // MAX_BLAME_BUILDS builds and as many unbuilt buildsets.
    for (const batch of batches(buildsetids)) {
      const recorded = await this.ctx.db
        .selectFrom('buildset_changes')
        .select('changeid')
        .where('buildsetid', 'in', batch)
        .execute();
      for (const r of recorded) ids.add(r.changeid);
      const stamped = await this.ctx.db
        .selectFrom('buildset_sourcestamps')
        .innerJoin('changes', 'changes.sourcestampid', 'buildset_sourcestamps.sourcestampid')
        .select('changes.id')
        .where('buildset_sourcestamps.buildsetid', 'in', batch)
        .execute();
      for (const r of stamped) ids.add(r.id);
    }
    return [...ids].sort((a, b) => a - b);
  }
}
