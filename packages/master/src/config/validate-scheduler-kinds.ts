// Validation of the force, triggerable and dependent scheduler entries (the change
// schedulers are checked in validate-changes.ts), and the implicit force scheduler a config
// without one gets.
import type { ResolvedSchedulerConfig } from '../schedulers/config.js';
import { resolveDependentScheduler } from '../schedulers/dependent.js';
import { IMPLICIT_FORCE_SCHEDULER, resolveForceScheduler } from '../schedulers/force.js';
import { checkParameterDeclarations, type ForceParameter } from '../schedulers/force-parameters.js';
import { resolveTriggerableScheduler } from '../schedulers/triggerable.js';

type Obj = Record<string, unknown>;
type Reporter = (field: string | undefined, message: string, where?: string | null) => void;

const KIND_FIELDS = {
  ForceScheduler: ['parameters', 'reasonString', 'reasonRequired'],
  Triggerable: ['reason'],
  Dependent: ['upstream', 'reason'],
} as const;
const COMMON_FIELDS = ['kind', 'name', 'builderNames', 'properties', 'priority'];

export type OtherSchedulerKind = keyof typeof KIND_FIELDS;

export function isOtherSchedulerKind(kind: unknown): kind is OtherSchedulerKind {
  return typeof kind === 'string' && Object.hasOwn(KIND_FIELDS, kind);
}

/** Checks that need every scheduler's name (a dependent's upstream); run after the loop. */
export type LaterCheck = (schedulerNames: ReadonlySet<string>) => void;

export function resolveOtherScheduler(
  s: Obj & { kind: OtherSchedulerKind },
  issue: Reporter,
  name: string,
  builderNames: ReadonlySet<string>,
  later: LaterCheck[],
): ResolvedSchedulerConfig {
  const fields = new Set<string>([...COMMON_FIELDS, ...KIND_FIELDS[s.kind]]);
  for (const key of Object.keys(s)) if (!fields.has(key)) issue(key, 'unknown field');
  const listed = Array.isArray(s.builderNames) ? (s.builderNames as unknown[]) : [];
  if (listed.length === 0)
    issue(
      'builderNames',
      'must list at least one builder',
      s.builderNames === undefined ? null : 'builderNames',
    );
  for (const b of listed)
    if (typeof b !== 'string' || !builderNames.has(b))
      issue('builderNames', `names unknown builder ${JSON.stringify(b)}`);
  const p = s.properties;
  if (p !== undefined && (typeof p !== 'object' || p === null || Array.isArray(p)))
    issue('properties', 'must be a plain object');
  if (s.priority !== undefined && !(typeof s.priority === 'number' && Number.isFinite(s.priority)))
    issue('priority', 'must be a finite number');
  for (const key of ['reason', 'reasonString'] as const)
    if (s[key] !== undefined && typeof s[key] !== 'string') issue(key, 'must be a string');
  const common = {
    name,
    builderNames: listed.filter((b): b is string => typeof b === 'string'),
    ...(p === undefined ? {} : { properties: p as Obj }),
    ...(typeof s.priority === 'number' ? { priority: s.priority } : {}),
  };
  switch (s.kind) {
    case 'ForceScheduler': {
      for (const problem of checkParameterDeclarations(s.parameters ?? []))
        issue('parameters', `${JSON.stringify(problem.parameter)} ${problem.message}`);
      if (s.reasonRequired !== undefined && typeof s.reasonRequired !== 'boolean')
        issue('reasonRequired', 'must be true or false');
      return resolveForceScheduler({
        ...common,
        parameters: (s.parameters as ForceParameter[] | undefined) ?? [],
        ...(typeof s.reasonString === 'string' ? { reasonString: s.reasonString } : {}),
        reasonRequired: s.reasonRequired === true,
      });
    }
    case 'Triggerable':
      return resolveTriggerableScheduler({
        ...common,
        ...(typeof s.reason === 'string' ? { reason: s.reason } : {}),
      });
    case 'Dependent': {
      const upstream = s.upstream;
      if (typeof upstream !== 'string' || upstream === '')
        issue('upstream', 'must name the upstream scheduler', upstream === undefined ? null : 'upstream');
      else if (upstream === name) issue('upstream', 'cannot be the scheduler itself');
      else
        later.push((names) => {
          if (!names.has(upstream)) issue('upstream', `names unknown scheduler ${JSON.stringify(upstream)}`);
        });
      return resolveDependentScheduler({
        ...common,
        upstream: typeof upstream === 'string' ? upstream : '',
        ...(typeof s.reason === 'string' ? { reason: s.reason } : {}),
      });
    }
  }
}

/**
 * A config that declares no force scheduler gets one for all builders, taking any
 * properties, so `lathe force` works as before. Named "force" unless that name is taken.
 */
export function implicitForceScheduler(
  schedulers: readonly { readonly kind: string; readonly name: string }[],
  builderNames: readonly string[],
): ResolvedSchedulerConfig | null {
  if (schedulers.some((s) => s.kind === 'ForceScheduler')) return null;
  const taken = new Set(schedulers.map((s) => s.name));
  let name = IMPLICIT_FORCE_SCHEDULER;
  for (let i = 2; taken.has(name); i++) name = `${IMPLICIT_FORCE_SCHEDULER}-${i}`;
  return resolveForceScheduler({ name, builderNames }, true);
}
