// The old-build canceller (opt-in with a change scheduler's `cancelOldBuilds`): once a
// scheduler has added a buildset for a newer commit, the same builders' pending requests
// and running builds of an older commit on the same repository, codebase and branch are
// no longer worth finishing. Pending ones complete CANCELLED; running ones are stopped
// with a reason naming the commit that superseded them (their state string keeps it).
// Builds with a patch (try builds) are someone's experiment, not an old commit: left alone.
import type { SourceStampRow } from '../data/sourcestamps.js';
import type { SchedulerBuildset } from './buildset.js';
import type { SchedulerContext } from './scheduler.js';

interface Stamp {
  readonly codebase: string;
  readonly repository: string;
  readonly branch: string | null;
  readonly revision: string | null;
  readonly hasPatch: boolean;
}

const lineOf = (s: Stamp) => JSON.stringify([s.codebase, s.repository, s.branch]);

/** Whether `old` builds an older commit of one of the lines `newer` builds. */
export function isSuperseded(old: readonly Stamp[], newer: ReadonlyMap<string, Stamp>): boolean {
  if (old.some((s) => s.hasPatch)) return false;
  return old.some((s) => {
    const n = newer.get(lineOf(s));
    return n !== undefined && n.revision !== s.revision;
  });
}

/** Cancels what `added` supersedes; returns the build request ids it cancelled. */
export async function cancelOldBuilds(
  ctx: SchedulerContext,
  scheduler: string,
  added: SchedulerBuildset,
  sourcestampids: readonly number[],
): Promise<number[]> {
  const newer = new Map<string, Stamp>();
  for (const id of sourcestampids) {
    const ss = await ctx.data.sourcestamps.get(id);
    if (ss && ss.patchid === null) newer.set(lineOf(stampOf(ss)), stampOf(ss));
  }
  if (newer.size === 0) return [];
  const shown = [...newer.values()].map(
    (s) => `${s.branch ?? '(default branch)'} at ${s.revision ?? 'latest'}`,
  );
  const reason = `superseded by a newer commit (${shown.join(', ')}; buildset ${added.buildsetid}, scheduler ${scheduler})`;
  const cancelled: number[] = [];
  for (const { builderid, buildrequestid: newest } of added.requests) {
    const candidates = new Set<number>();
    for (const r of await ctx.data.buildrequests.pendingForBuilder(builderid))
      if (r.id < newest && r.buildsetid !== added.buildsetid && isSuperseded(r.sources, newer))
        candidates.add(r.id);
    for (const b of await ctx.data.builds.latestForBuilder(builderid)) {
      if (b.completeAt !== null || b.buildrequestid >= newest || candidates.has(b.buildrequestid)) continue;
      if (isSuperseded(await stampsOfRequest(ctx, b.buildrequestid), newer)) candidates.add(b.buildrequestid);
    }
    for (const id of candidates) {
      try {
        await ctx.cancelRequest(id, reason);
        cancelled.push(id);
      } catch (err) {
        ctx.log.warn(
          `scheduler ${scheduler}: cancelling superseded build request ${id}: ${(err as Error).message}`,
        );
      }
    }
  }
  if (cancelled.length > 0)
    ctx.log.info(`scheduler ${scheduler}: cancelled build requests ${cancelled.join(', ')}: ${reason}`);
  return cancelled;
}

function stampOf(ss: SourceStampRow): Stamp {
  return { ...ss, hasPatch: ss.patchid !== null };
}

async function stampsOfRequest(ctx: SchedulerContext, buildrequestid: number): Promise<Stamp[]> {
  const request = await ctx.data.buildrequests.get(buildrequestid);
  const buildset = request && (await ctx.data.buildsets.get(request.buildsetid));
  const out: Stamp[] = [];
  for (const id of buildset?.sourcestampids ?? []) {
    const ss = await ctx.data.sourcestamps.get(id);
    if (ss) out.push(stampOf(ss));
  }
  return out;
}
