// Builds reached from what they were built for, for the console and grid views and the
// per-branch badges: every query walks indexes (a change's source stamp → its buildsets →
// their requests → builds; a builder's branch along blame_builds), never a builds scan.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * More builds than any view shows for one change or buildset. A stamp shared that widely
 * (one without a revision, forced again and again) is cut here, in index order: the reads
 * follow indexes only and never sort a stamp's whole history.
 */
export const MAX_LINKED_BUILDS = 500;

/**
 * The builds of the buildsets made for a change's source stamp: the builds
 * whose newest change it is (the console's cell for that change). undefined: no such change.
 * `builderids` narrows them to those builders before the MAX_LINKED_BUILDS cut, so a view
 * of some builders gets all of theirs however many builders built the change.
 */
export async function buildIdsOfChange(
  db: Kysely<Database>,
  changeid: number,
  builderids?: readonly number[],
): Promise<number[] | undefined> {
  const change = await db
    .selectFrom('changes')
    .select('sourcestampid')
    .where('id', '=', changeid)
    .executeTakeFirst();
  if (!change) return undefined;
  const rows = await db
    .selectFrom('buildset_sourcestamps')
    .innerJoin('buildrequests', 'buildrequests.buildsetid', 'buildset_sourcestamps.buildsetid')
    .innerJoin('builds', 'builds.buildrequestid', 'buildrequests.id')
    .select('builds.id')
    .where('buildset_sourcestamps.sourcestampid', '=', change.sourcestampid)
    .$if(builderids !== undefined, (q) => q.where('buildrequests.builderid', 'in', builderids!))
    .limit(MAX_LINKED_BUILDS)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * The most changes (or buildsets) one read of their builds names
 * (`/changes/:changeids/builds`, `/buildsets/:bsids/builds`).
 */
export const MAX_AT_ONCE = 50;

/**
 * buildIdsOfChange for several changes at once (a console page's), each cut as it is; a
 * change that does not exist has none. A build made for two of them is listed once.
 */
export function buildIdsOfChanges(
  db: Kysely<Database>,
  changeids: readonly number[],
  builderids?: readonly number[],
): Promise<number[]> {
  return eachOnce(changeids, (changeid) => buildIdsOfChange(db, changeid, builderids));
}

/** The ids `read` gives for each of `keys` (none for an unknown key), each id once. */
async function eachOnce(
  keys: readonly number[],
  read: (key: number) => Promise<number[] | undefined>,
): Promise<number[]> {
  const ids = new Set<number>();
  for (const key of keys) for (const id of (await read(key)) ?? []) ids.add(id);
  return [...ids];
}

/**
 * The changes each build was made for (those of its buildset's source stamps), by build
 * id: one query along the same indexes as buildIdsOfChange, walked the other way.
 */
export async function changeIdsOfBuilds(
  db: Kysely<Database>,
  buildids: readonly number[],
): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>(buildids.map((id) => [id, []]));
  if (buildids.length === 0) return out;
  const rows = await db
    .selectFrom('builds')
    .innerJoin('buildrequests', 'buildrequests.id', 'builds.buildrequestid')
    .innerJoin('buildset_sourcestamps', 'buildset_sourcestamps.buildsetid', 'buildrequests.buildsetid')
    .innerJoin('changes', 'changes.sourcestampid', 'buildset_sourcestamps.sourcestampid')
    .select(['builds.id as buildid', 'changes.id as changeid'])
    .where('builds.id', 'in', buildids)
    .orderBy('changes.id')
    .execute();
  for (const r of rows) out.get(r.buildid)?.push(r.changeid);
  return out;
}

/**
 * The builds started for a buildset's requests (of `builderids` only, when given, before
 * the MAX_LINKED_BUILDS cut). undefined: no such buildset.
 */
export async function buildIdsOfBuildset(
  db: Kysely<Database>,
  buildsetid: number,
  builderids?: readonly number[],
): Promise<number[] | undefined> {
  const set = await db.selectFrom('buildsets').select('id').where('id', '=', buildsetid).executeTakeFirst();
  if (!set) return undefined;
  const rows = await db
    .selectFrom('buildrequests')
    .innerJoin('builds', 'builds.buildrequestid', 'buildrequests.id')
    .select('builds.id')
    .where('buildrequests.buildsetid', '=', buildsetid)
    .$if(builderids !== undefined, (q) => q.where('buildrequests.builderid', 'in', builderids!))
    .limit(MAX_LINKED_BUILDS)
    .execute();
  return rows.map((r) => r.id);
}

/** buildIdsOfBuildset for several buildsets at once (a grid's columns), each build once. */
export function buildIdsOfBuildsets(
  db: Kysely<Database>,
  buildsetids: readonly number[],
  builderids?: readonly number[],
): Promise<number[]> {
  return eachOnce(buildsetids, (buildsetid) => buildIdsOfBuildset(db, buildsetid, builderids));
}

/** The buildset each build was started for (through its request), by build id. */
export async function buildsetIdsOfBuilds(
  db: Kysely<Database>,
  buildids: readonly number[],
): Promise<Map<number, number>> {
  if (buildids.length === 0) return new Map();
  const rows = await db
    .selectFrom('builds')
    .innerJoin('buildrequests', 'buildrequests.id', 'builds.buildrequestid')
    .select(['builds.id as buildid', 'buildrequests.buildsetid'])
    .where('builds.id', 'in', buildids)
    .execute();
  return new Map(rows.map((r) => [r.buildid, r.buildsetid]));
}

/**
 * The result of the builder's latest finished build of a branch (of one codebase, '' by
 * default), or null when it has none. Walks the builder's builds of that branch newest
 * first along the blame_builds index; only the few still running are stepped over.
 */
export async function lastFinishedResultOnBranch(
  db: Kysely<Database>,
  builderid: number,
  branch: string,
  codebase = '',
): Promise<number | null> {
  const row = await db
    .selectFrom('blame_builds')
    .innerJoin('builds', 'builds.id', 'blame_builds.buildid')
    .select('builds.results')
    .where('blame_builds.builderid', '=', builderid)
    // The key blame.ts stores for a one-codebase buildset.
    .where('blame_builds.branch_key', '=', JSON.stringify([[codebase, branch]]))
    .where('builds.complete_at', 'is not', null)
    .orderBy('blame_builds.number', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.results ?? null;
}
