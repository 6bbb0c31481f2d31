// A try job: a patch against a base revision that someone wants built before committing,
// as `buildbot try` (and `lathe try`) sends it. Both try schedulers turn one into a buildset
// whose single source stamp carries the patch, on the builders the scheduler allows.
import type { PBUserRegistry } from '../../changes/pb-users.js';
import type { SchedulerContext } from '../scheduler.js';

/** What a try scheduler uses of the master beyond any scheduler's context. */
export interface TrySchedulerContext extends SchedulerContext {
  /** The master directory: a relative job directory is under it. */
  readonly basedir: string;
  /** Logins on the worker port (Try_Userpass's users). */
  readonly pbUsers: PBUserRegistry;
}

export interface TryJob {
  /** The client's id for the job (job files have one; `buildbot try` uses it to find the buildset). */
  readonly jobid: string | null;
  readonly branch: string | null;
  /** The base revision the patch applies to; null for the branch tip. */
  readonly baserev: string | null;
  /** The `-p` level of the patch (how many leading path components to strip). */
  readonly patchLevel: number;
  readonly patchBody: Buffer;
  readonly repository: string;
  readonly project: string;
  readonly who: string;
  readonly comment: string;
  /** Builders asked for; empty means all the scheduler allows. */
  readonly builderNames: readonly string[];
  readonly properties: Readonly<Record<string, unknown>>;
}

/** A try job that is not what a try client sends; nothing is built from it. */
export class BadTryJobError extends Error {
  override readonly name = 'BadTryJobError';
}

/**
 * The builders to build on: those asked for if every one is allowed, all allowed ones if
 * none was asked for, and none at all if any asked-for builder is not allowed (Buildbot's
 * rule: a job does not silently build on a subset of what was asked).
 */
export function allowedBuilders(asked: readonly string[], allowed: readonly string[]): string[] {
  if (asked.length === 0) return [...allowed];
  return asked.every((b) => allowed.includes(b)) ? [...new Set(asked)] : [];
}

export interface TryBuildset {
  readonly buildsetid: number;
  /** Build request id per builder name. */
  readonly requests: ReadonlyMap<string, number>;
}

export interface TrySchedulerSettings {
  readonly name: string;
  readonly builderNames: readonly string[];
  readonly properties: Readonly<Record<string, unknown>>;
}

/**
 * Adds the buildset of a try job, or returns null when it asks for builders the scheduler
 * does not allow (or none of them is configured).
 */
export async function addTryBuildset(
  ctx: SchedulerContext,
  scheduler: TrySchedulerSettings,
  job: TryJob,
  reason: string,
): Promise<TryBuildset | null> {
  const names = allowedBuilders(job.builderNames, scheduler.builderNames);
  const builders: { name: string; id: number }[] = [];
  for (const name of names) {
    const id = ctx.builderid(name);
    if (id === undefined)
      ctx.log.warn(`scheduler ${scheduler.name}: builder ${JSON.stringify(name)} is not configured`);
    else builders.push({ name, id });
  }
  if (builders.length === 0) {
    ctx.log.warn(
      `scheduler ${scheduler.name}: try job asks for builders ${JSON.stringify(job.builderNames)}; allowed are ${JSON.stringify(scheduler.builderNames)}`,
    );
    return null;
  }
  const ssid = await ctx.data.sourcestamps.findOrCreate({
    codebase: '',
    repository: job.repository,
    project: job.project,
    branch: job.branch,
    revision: job.baserev,
    // An empty diff ("nothing to try") builds the base revision as it is.
    ...(job.patchBody.length === 0
      ? {}
      : {
          patch: {
            level: job.patchLevel,
            body: job.patchBody,
            author: job.who,
            comment: job.comment,
            subdir: '',
          },
        }),
  });
  const added = await ctx.data.buildsets.add({
    sourcestampids: [ssid],
    builderids: builders.map((b) => b.id),
    reason,
    // The job's own properties win over the scheduler's, as in Buildbot ("try build").
    properties: { ...scheduler.properties, ...job.properties, scheduler: scheduler.name },
    propertiesSource: 'try build',
    externalIdstring: job.jobid,
  });
  ctx.log.info(
    `scheduler ${scheduler.name}: buildset ${added.buildsetid} for a try job by ${JSON.stringify(job.who)}`,
  );
  const requests = new Map<string, number>();
  for (const b of builders) {
    const brid = added.buildrequestids.get(b.id);
    if (brid !== undefined) requests.set(b.name, brid);
  }
  return { buildsetid: added.buildsetid, requests };
}
