// How a scheduler adds a buildset: its builders by name (a builder a reconfig removed is
// skipped with a warning), its properties with Buildbot's sources ("Scheduler" for its own
// and the `scheduler` property naming it, another source for what came with the request).
import type { Kysely } from 'kysely';
import type { AddedBuildset } from '../data/buildsets.js';
import type { Database } from '../db/schema.js';
import type { SchedulerContext } from './scheduler.js';

export interface SchedulerBuildsetSpec {
  readonly scheduler: string;
  readonly builderNames: readonly string[];
  readonly sourcestampids: readonly number[];
  readonly reason: string;
  readonly priority: number;
  /** The scheduler's configured properties (source "Scheduler"). */
  readonly schedulerProperties: Readonly<Record<string, unknown>>;
  /** Properties given with this request, over the scheduler's, with their own source. */
  readonly requestProperties?: Readonly<Record<string, unknown>>;
  readonly requestPropertiesSource?: string;
  readonly parentBuildid?: number;
  readonly parentRelationship?: string;
  /** Every change the buildset covers (its blamelist's own part), not only the newest. */
  readonly changeids?: readonly number[];
  /** More writes that commit with the buildset or not at all (the scheduler's state). */
  readonly alsoInTransaction?: (db: Kysely<Database>) => Promise<void>;
}

export interface SchedulerBuildset extends AddedBuildset {
  /** Build request id per builder name, in the order asked for. */
  readonly requests: readonly {
    readonly builder: string;
    readonly builderid: number;
    readonly buildrequestid: number;
  }[];
}

export async function addSchedulerBuildset(
  ctx: SchedulerContext,
  spec: SchedulerBuildsetSpec,
): Promise<SchedulerBuildset | null> {
  const builders: { builder: string; builderid: number }[] = [];
  for (const name of spec.builderNames) {
    const builderid = ctx.builderid(name);
    if (builderid === undefined)
      ctx.log.warn(`scheduler ${spec.scheduler}: builder ${JSON.stringify(name)} is not configured`);
    else builders.push({ builder: name, builderid });
  }
  if (builders.length === 0) return null;
  const properties: Record<string, unknown> = { ...spec.schedulerProperties, scheduler: spec.scheduler };
  const propertySources: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.requestProperties ?? {})) {
    if (name === 'scheduler') continue;
    properties[name] = value;
    propertySources[name] = spec.requestPropertiesSource ?? 'Scheduler';
  }
  const added = await ctx.data.buildsets.add({
    sourcestampids: spec.sourcestampids,
    builderids: builders.map((b) => b.builderid),
    reason: spec.reason,
    properties,
    propertiesSource: 'Scheduler',
    propertySources,
    priority: spec.priority,
    ...(spec.parentBuildid === undefined ? {} : { parentBuildid: spec.parentBuildid }),
    ...(spec.parentRelationship === undefined ? {} : { parentRelationship: spec.parentRelationship }),
    ...(spec.changeids === undefined ? {} : { changeids: spec.changeids }),
    ...(spec.alsoInTransaction === undefined ? {} : { alsoInTransaction: spec.alsoInTransaction }),
  });
  return {
    ...added,
    requests: builders.map((b) => ({ ...b, buildrequestid: added.buildrequestids.get(b.builderid)! })),
  };
}
