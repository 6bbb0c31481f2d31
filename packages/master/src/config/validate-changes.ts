// Validation of the change sources and schedulers of a config, in the manner of
// validate.ts: every problem collected, named by entry and field, located in the file.
import type { ChangeSourceConfig } from '../changes/create.js';
import type { GitPollerConfig } from '../changes/git-poller.js';
import type { PBChangeSourceConfig } from '../changes/pb-change-source.js';
import { isValueMatcher } from '../schedulers/change-filter.js';
import type { ResolvedChangeSchedulerConfig } from '../schedulers/config.js';
import type { AnySchedulerConfig } from '../schedulers/create.js';
import { isTimedKind } from '../schedulers/timed-config.js';
import type { ConfigIssue } from './errors.js';
import type { SourceLocator } from './locate.js';
import {
  implicitForceScheduler,
  isOtherSchedulerKind,
  type LaterCheck,
  resolveOtherScheduler,
} from './validate-scheduler-kinds.js';
import { resolveTimedFields, TIMED_SCHEDULER_FIELDS } from './validate-timed.js';
import { isTrySchedulerKind, resolveTryScheduler } from './validate-try.js';

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPlainRecord = (v: unknown): v is Obj =>
  isObject(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
const nonEmptyText = (v: unknown): v is string => typeof v === 'string' && v !== '';

const SCHEDULER_FIELDS = new Set([
  'kind',
  'name',
  'builderNames',
  'branch',
  'changeFilter',
  'treeStableTimer',
  'fileIsImportant',
  'onlyImportant',
  'properties',
  'reason',
  'priority',
  'cancelOldBuilds',
]);
const FILTER_FIELDS = new Set(['branch', 'repository', 'project', 'category', 'codebase', 'filterFn']);

/** `where`: the field to point at; null for a missing field (the entry's own line). */
export type Reporter = (field: string | undefined, message: string, where?: string | null) => void;

function entries(
  raw: unknown,
  key: string,
  loc: SourceLocator,
  issues: ConfigIssue[],
  each: (entry: unknown, issue: Reporter, name: string | undefined) => void,
): void {
  if (raw === undefined) return;
  if (!Array.isArray(raw)) {
    issues.push({ path: key, message: 'must be an array', location: loc.locateSetting(key) });
    return;
  }
  const occurrences = new Map<string, number>();
  raw.forEach((entry: unknown, i) => {
    const name = isObject(entry) && nonEmptyText(entry.name) ? entry.name : undefined;
    const nth = name === undefined ? 0 : (occurrences.get(name) ?? 0);
    if (name !== undefined) occurrences.set(name, nth + 1);
    const path = name === undefined ? `${key}[${i}]` : `${key}[${JSON.stringify(name)}]`;
    each(
      entry,
      (field, message, where = field) =>
        issues.push({
          path: field ? `${path}.${field}` : path,
          message,
          location: loc.locate(entry, name, where ?? undefined, nth),
        }),
      name,
    );
  });
}

export function resolveChangeSources(
  raw: unknown,
  workerNames: ReadonlySet<string>,
  loc: SourceLocator,
  issues: ConfigIssue[],
): ChangeSourceConfig[] {
  const out: ChangeSourceConfig[] = [];
  const names = new Set<string>();
  const users = new Set<string>();
  entries(raw, 'changeSources', loc, issues, (entry, issue, name) => {
    if (!isObject(entry) || (entry.type !== 'pb' && entry.type !== 'git')) {
      issue(
        undefined,
        'must be a change source, e.g. pbChangeSource({ user, passwd }) or gitPoller({ repourl })',
      );
      return;
    }
    if (name === undefined) issue('name', 'must be a non-empty string');
    else if (names.has(name)) issue('name', 'is used by another change source');
    else names.add(name);
    if (entry.type === 'git') {
      out.push(checkGitPoller(entry, issue));
      return;
    }
    if (!nonEmptyText(entry.user)) issue('user', 'must be a non-empty string');
    else if (workerNames.has(entry.user))
      issue('user', `is also a worker's name; the worker port cannot tell them apart`);
    else if (users.has(entry.user)) issue('user', 'is used by another change source');
    else users.add(entry.user);
    if (!nonEmptyText(entry.passwd)) issue('passwd', 'must be a non-empty string');
    const prefix = entry.prefix ?? null;
    if (prefix !== null && !nonEmptyText(prefix)) issue('prefix', 'must be a non-empty string');
    out.push({ ...(entry as unknown as PBChangeSourceConfig), prefix: prefix as string | null });
  });
  return out;
}

// An absolute path, a URL with a scheme (file://, https://, ssh://…) or scp-like user@host:path.
const GIT_URL = /^(\/|[a-z][a-z0-9+.-]*:\/\/|[\w.-]+@[\w.-]+:)/i;

function checkGitPoller(entry: Obj, issue: Reporter): GitPollerConfig {
  if (!nonEmptyText(entry.repourl) || !GIT_URL.test(entry.repourl))
    issue('repourl', 'must be an absolute path, a file:// URL or another URL git can fetch');
  const branches = entry.branches;
  const pattern = (b: unknown) => nonEmptyText(b) || b instanceof RegExp;
  if (
    !(
      branches === true ||
      branches instanceof RegExp ||
      typeof branches === 'function' ||
      (Array.isArray(branches) && branches.length > 0 && branches.every(pattern))
    )
  )
    issue(
      'branches',
      'must be a list of branch names or RegExps, a RegExp, a function of the name, or true for all',
    );
  const interval = entry.pollInterval;
  if (!(typeof interval === 'number' && Number.isFinite(interval) && interval > 0))
    issue('pollInterval', 'must be a positive number of seconds');
  if (typeof entry.project !== 'string') issue('project', 'must be a string');
  if (entry.category !== null && typeof entry.category !== 'string') issue('category', 'must be a string');
  return entry as unknown as GitPollerConfig;
}

export function resolveSchedulers(
  raw: unknown,
  builderNames: ReadonlySet<string>,
  loc: SourceLocator,
  issues: ConfigIssue[],
): AnySchedulerConfig[] {
  const out: AnySchedulerConfig[] = [];
  const names = new Set<string>();
  const later: LaterCheck[] = [];
  entries(raw, 'schedulers', loc, issues, (s, issue, name) => {
    if (isObject(s) && isTrySchedulerKind(s.kind)) {
      if (name !== undefined && names.has(name)) issue('name', 'is used by another scheduler');
      else if (name !== undefined) names.add(name);
      out.push(resolveTryScheduler(s, name, builderNames, issue));
      return;
    }
    const other = isObject(s) && isOtherSchedulerKind(s.kind);
    if (
      !other &&
      (!isObject(s) ||
        (s.kind !== 'SingleBranchScheduler' && s.kind !== 'AnyBranchScheduler' && !isTimedKind(s.kind)))
    ) {
      issue(undefined, 'must be a scheduler, e.g. singleBranchScheduler({ name, branch, builderNames })');
      return;
    }
    if (name === undefined) issue('name', 'is required and must be a non-empty string', null);
    else if (names.has(name)) issue('name', 'is used by another scheduler');
    else names.add(name);
    if (other) {
      out.push(
        resolveOtherScheduler(
          s as Parameters<typeof resolveOtherScheduler>[0],
          issue,
          name ?? '',
          builderNames,
          later,
        ),
      );
      return;
    }
    if (!isObject(s)) return;
    const fields = isTimedKind(s.kind) ? TIMED_SCHEDULER_FIELDS : SCHEDULER_FIELDS;
    for (const key of Object.keys(s)) if (!fields.has(key)) issue(key, 'unknown field');
    if (!Array.isArray(s.builderNames) || s.builderNames.length === 0)
      issue(
        'builderNames',
        'must list at least one builder',
        s.builderNames === undefined ? null : 'builderNames',
      );
    else
      for (const b of s.builderNames as unknown[])
        if (typeof b !== 'string' || !builderNames.has(b))
          issue('builderNames', `names unknown builder ${JSON.stringify(b)}`);
    const filter = isObject(s.changeFilter) ? { ...s.changeFilter } : {};
    if (s.changeFilter !== undefined) {
      if (!isObject(s.changeFilter)) issue('changeFilter', 'must be an object');
      else
        for (const [k, v] of Object.entries(s.changeFilter)) {
          if (!FILTER_FIELDS.has(k)) issue('changeFilter', `has unknown field ${JSON.stringify(k)}`);
          else if (k === 'filterFn' ? typeof v !== 'function' : !isValueMatcher(v))
            issue('changeFilter', `${k} must be a string, null, a list, a RegExp or a function`);
        }
    }
    if (s.kind === 'SingleBranchScheduler') {
      const hasBranch = s.branch !== undefined;
      if (hasBranch === (s.changeFilter !== undefined))
        issue(
          'branch',
          'give exactly one of branch (null for the default branch) and changeFilter',
          hasBranch ? 'branch' : null,
        );
      else if (hasBranch) {
        if (s.branch !== null && !nonEmptyText(s.branch)) issue('branch', 'must be a branch name or null');
        filter.branch = s.branch as string | null;
      }
    } else if (s.branch !== undefined && !isTimedKind(s.kind))
      issue('branch', 'is for singleBranchScheduler; use changeFilter');
    const timer = s.treeStableTimer ?? null;
    if (timer !== null && !(typeof timer === 'number' && Number.isFinite(timer) && timer >= 0))
      issue('treeStableTimer', 'must be a number of seconds (>= 0) or null');
    if (s.fileIsImportant !== undefined && typeof s.fileIsImportant !== 'function')
      issue('fileIsImportant', 'must be a function of the change');
    if (s.onlyImportant !== undefined && typeof s.onlyImportant !== 'boolean')
      issue('onlyImportant', 'must be true or false');
    if (s.properties !== undefined && !isPlainRecord(s.properties))
      issue('properties', 'must be a plain object');
    if (s.reason !== undefined && typeof s.reason !== 'string') issue('reason', 'must be a string');
    if (s.priority !== undefined && !(typeof s.priority === 'number' && Number.isFinite(s.priority)))
      issue('priority', 'must be a finite number');
    if (s.cancelOldBuilds !== undefined && typeof s.cancelOldBuilds !== 'boolean')
      issue('cancelOldBuilds', 'must be true or false');
    const common = {
      name: name ?? '',
      builderNames: Array.isArray(s.builderNames) ? (s.builderNames as string[]) : [],
      filter,
      fileIsImportant:
        (s.fileIsImportant as ResolvedChangeSchedulerConfig['fileIsImportant'] | undefined) ?? null,
      onlyImportant: s.onlyImportant === true,
      properties: (s.properties as Obj | undefined) ?? {},
      reason:
        (s.reason as string | undefined) ??
        `The ${s.kind} scheduler named ${JSON.stringify(name ?? '')} triggered this build`,
      priority: (s.priority as number | undefined) ?? 0,
    };
    out.push(
      isTimedKind(s.kind)
        ? resolveTimedFields(s, common, issue)
        : {
            kind: s.kind as ResolvedChangeSchedulerConfig['kind'],
            ...common,
            treeStableTimer: timer as number | null,
            cancelOldBuilds: s.cancelOldBuilds === true,
          },
    );
  });
  for (const check of later) check(names);
  const implicit = implicitForceScheduler(out, [...builderNames]);
  if (implicit) out.push(implicit);
  return out;
}
