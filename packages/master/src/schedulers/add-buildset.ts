// The buildset a scheduler adds: its builders, reason, properties and priority, built
// from the newest change of each codebase, or from one empty source stamp when there
// are no changes (a timed scheduler that builds whatever the branch holds).
import type { Kysely } from 'kysely';
import type { ChangeRow } from '../data/changes.js';
import type { Database } from '../db/schema.js';
import type { SchedulerContext } from './scheduler.js';

export interface BuildsetSettings {
  readonly name: string;
  readonly builderNames: readonly string[];
  readonly reason: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly priority: number;
}

/**
 * Adds the buildset and runs `stateWrites` in its transaction; with no configured builder
 * to build on, only `stateWrites` run. Resolves to the buildset id, or null.
 */
export async function addSchedulerBuildset(
  ctx: SchedulerContext,
  settings: BuildsetSettings,
  changes: readonly ChangeRow[],
  stateWrites: (db: Kysely<Database>) => Promise<void> = async () => {},
): Promise<number | null> {
  const builderids: number[] = [];
  for (const name of settings.builderNames) {
    const id = ctx.builderid(name);
    if (id === undefined)
      ctx.log.warn(`scheduler ${settings.name}: builder ${JSON.stringify(name)} is not configured`);
    else builderids.push(id);
  }
  if (builderids.length === 0) {
    await stateWrites(ctx.data.db.kysely);
    return null;
  }
  // The newest change of each codebase says what to build.
  const latest = new Map<string, ChangeRow>();
  for (const c of [...changes].sort((a, b) => a.id - b.id)) latest.set(c.codebase, c);
  const sourcestampids =
    latest.size > 0
      ? [...latest.values()].map((c) => c.sourcestampid)
      : [
          await ctx.data.sourcestamps.findOrCreate({
            codebase: '',
            repository: '',
            branch: null,
            revision: null,
            project: '',
          }),
        ];
  const added = await ctx.data.buildsets.add({
    sourcestampids,
    builderids,
    reason: settings.reason,
    properties: { ...settings.properties, scheduler: settings.name },
    propertiesSource: 'Scheduler',
    priority: settings.priority,
    alsoInTransaction: stateWrites,
  });
  const what = changes.length > 0 ? `change(s) ${changes.map((c) => c.id).join(', ')}` : 'no changes';
  ctx.log.info(`scheduler ${settings.name}: buildset ${added.buildsetid} for ${what}`);
  return added.buildsetid;
}
