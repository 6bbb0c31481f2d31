// Validation of the try scheduler entries (tryJobdirScheduler, tryUserpassScheduler), called
// from resolveSchedulers for their kinds: every problem reported, named by field.
import { normalize } from 'node:path';
import type { ResolvedTrySchedulerConfig } from '../schedulers/try/config.js';
import type { Reporter } from './validate-changes.js';

const TRY_KINDS = new Set(['Try_Jobdir', 'Try_Userpass']);
const COMMON_FIELDS = ['kind', 'name', 'builderNames', 'properties'];
const FIELDS: Record<string, Set<string>> = {
  Try_Jobdir: new Set([...COMMON_FIELDS, 'jobdir']),
  Try_Userpass: new Set([...COMMON_FIELDS, 'userpass']),
};

export function isTrySchedulerKind(kind: unknown): kind is ResolvedTrySchedulerConfig['kind'] {
  return typeof kind === 'string' && TRY_KINDS.has(kind);
}

const nonEmptyText = (v: unknown): v is string => typeof v === 'string' && v !== '';

export function resolveTryScheduler(
  s: Record<string, unknown>,
  name: string | undefined,
  builderNames: ReadonlySet<string>,
  issue: Reporter,
): ResolvedTrySchedulerConfig {
  const kind = s.kind as ResolvedTrySchedulerConfig['kind'];
  for (const key of Object.keys(s)) if (!FIELDS[kind]!.has(key)) issue(key, 'unknown field');
  if (name === undefined) issue('name', 'is required and must be a non-empty string', null);
  const builders = s.builderNames;
  if (!Array.isArray(builders) || builders.length === 0)
    issue(
      'builderNames',
      'must list the builders try jobs may use',
      builders === undefined ? null : 'builderNames',
    );
  else
    for (const b of builders as unknown[])
      if (typeof b !== 'string' || !builderNames.has(b))
        issue('builderNames', `names unknown builder ${JSON.stringify(b)}`);
  const properties = s.properties ?? {};
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties))
    issue('properties', 'must be a plain object');
  const common = {
    name: name ?? '',
    builderNames: Array.isArray(builders) ? (builders as string[]) : [],
    properties: properties as Record<string, unknown>,
  };
  if (kind === 'Try_Jobdir') {
    const jobdir = s.jobdir;
    if (!nonEmptyText(jobdir))
      issue(
        'jobdir',
        'must be a directory (relative to the master directory)',
        jobdir === undefined ? null : 'jobdir',
      );
    return { kind, ...common, jobdir: nonEmptyText(jobdir) ? normalize(jobdir) : '' };
  }
  const userpass = s.userpass;
  const pairs: [string, string][] = [];
  if (!Array.isArray(userpass) || userpass.length === 0)
    issue('userpass', 'must list [user, password] pairs', userpass === undefined ? null : 'userpass');
  else {
    const users = new Set<string>();
    for (const pair of userpass as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2 || !nonEmptyText(pair[0]) || !nonEmptyText(pair[1])) {
        issue('userpass', 'must list [user, password] pairs of non-empty strings');
        continue;
      }
      if (users.has(pair[0])) issue('userpass', `lists user ${JSON.stringify(pair[0])} twice`);
      users.add(pair[0]);
      pairs.push([pair[0], pair[1]]);
    }
  }
  return { kind, ...common, userpass: pairs };
}

/**
 * Try users share the worker port with workers and PB change sources: a name taken by
 * either would never reach the try scheduler (workers are asked first) or fail at start.
 */
export function tryUserClashes(
  schedulers: readonly { readonly kind: string; readonly name: string }[],
  workerNames: ReadonlySet<string>,
  changeSources: readonly { readonly type: string; readonly user?: string }[],
): string[] {
  const taken = new Map<string, string>();
  for (const w of workerNames) taken.set(w, 'a worker');
  for (const c of changeSources) if (c.type === 'pb' && c.user) taken.set(c.user, 'a PB change source');
  const problems: string[] = [];
  for (const s of schedulers) {
    if (s.kind !== 'Try_Userpass') continue;
    for (const [user] of (s as ResolvedTrySchedulerConfig & { kind: 'Try_Userpass' }).userpass) {
      const owner = taken.get(user);
      if (owner)
        problems.push(
          `try scheduler ${JSON.stringify(s.name)}: user ${JSON.stringify(user)} is also ${owner}'s name on the worker port`,
        );
      else taken.set(user, `try scheduler ${JSON.stringify(s.name)}`);
    }
  }
  return problems;
}
