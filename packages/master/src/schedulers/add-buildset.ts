// The buildset a change or timed scheduler adds: built from the newest change of each
// codebase, or from one empty source stamp when there are no changes (a timed scheduler
// that builds whatever the branch holds), with the scheduler's state written in the same
// transaction so a restart can neither repeat nor lose it.
import type { Kysely } from 'kysely';
import type { ChangeRow } from '../data/changes.js';
import type { Database } from '../db/schema.js';
import { addSchedulerBuildset, type SchedulerBuildset } from './buildset.js';
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
 * to build on, only `stateWrites` run. Resolves to the buildset, or null.
 */
export async function addChangesBuildset(
  ctx: SchedulerContext,
  settings: BuildsetSettings,
  changes: readonly ChangeRow[],
  stateWrites?: (db: Kysely<Database>) => Promise<void>,
): Promise<(SchedulerBuildset & { readonly sourcestampids: readonly number[] }) | null> {
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
  const added = await addSchedulerBuildset(ctx, {
    scheduler: settings.name,
    builderNames: settings.builderNames,
    sourcestampids,
    reason: settings.reason,
    priority: settings.priority,
    schedulerProperties: settings.properties,
    changeids: changes.map((c) => c.id),
    // Only when there is something to commit with it: without, a buildset is one statement.
    ...(stateWrites && { alsoInTransaction: stateWrites }),
  });
  if (!added) {
    await stateWrites?.(ctx.data.db.kysely);
    return null;
  }
  const what = changes.length > 0 ? `change(s) ${changes.map((c) => c.id).join(', ')}` : 'no changes';
  ctx.log.info(`scheduler ${settings.name}: buildset ${added.buildsetid} for ${what}`);
  return { ...added, sourcestampids };
}
