// Checks a loaded config and fills in defaults. Collects every problem rather than
// stopping at the first, naming the entry (by name where it has one) and the field.
import { DEFAULT_DATABASE_URL } from '../db/connection.js';
import { resolveReporters } from '../reporters/config.js';
import { isLatentWorker } from '../workers/latent/latent-worker.js';
import { resolveCluster } from './cluster.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { SourceLocator } from './locate.js';
import {
  DEFAULT_BUILDBOT_URL,
  DEFAULT_KEEPALIVE,
  DEFAULT_MISSING_TIMEOUT,
  DEFAULT_WORKER_PORT,
  PLANNED_SETTINGS,
  type PlannedSetting,
  type ResolvedBuilder,
  type ResolvedConfig,
  type ResolvedWorker,
} from './types.js';
import { resolveChangeSources, resolveSchedulers } from './validate-changes.js';
import { tryUserClashes } from './validate-try.js';
import { resolveWww } from './www.js';

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPlainRecord = (v: unknown): v is Obj =>
  isObject(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
const describe = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'string'
        ? `the string ${JSON.stringify(v)}`
        : typeof v === 'number' || typeof v === 'boolean'
          ? String(v)
          : typeof v;

// Names appear in URLs, log file paths and the worker handshake; keep them tame.
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

const KNOWN_TOP = new Set([
  'title',
  'buildbotURL',
  'workers',
  'builders',
  'workerPort',
  'db',
  'logs',
  'collapseRequests',
  'masterExpirySeconds',
  'properties',
  'secretsProviders',
  'www',
  'schedulers',
  'changeSources',
  'reporters',
  'cluster',
]);
const KNOWN_WORKER = new Set([
  'name',
  'password',
  'maxBuilds',
  'properties',
  'keepalive',
  'missingTimeout',
  'notifyOnMissing',
]);
const KNOWN_BUILDER = new Set([
  'name',
  'workerNames',
  'factory',
  'properties',
  'tags',
  'description',
  'project',
  'priority',
  'bisect',
  'canStartBuild',
  'nextWorker',
  'collapseRequests',
  'workerBuilddir',
  'locks',
]);

export function validateConfig(raw: unknown, file: string, sourceText?: string): ResolvedConfig {
  const loc = new SourceLocator(file, sourceText);
  const issues: ConfigIssue[] = [];
  const top = (path: string, message: string) =>
    issues.push({ path, message, location: loc.locateSetting(path) });

  if (!isObject(raw)) {
    throw new ConfigError(file, [
      {
        path: '',
        message: `the default export must be a config object (use defineConfig), got ${describe(raw)}`,
      },
    ]);
  }
  for (const key of Object.keys(raw)) {
    if (Object.hasOwn(PLANNED_SETTINGS, key)) top(key, PLANNED_SETTINGS[key as PlannedSetting]);
    else if (!KNOWN_TOP.has(key)) top(key, 'unknown setting');
  }

  const workers = resolveWorkers(raw.workers, loc, issues);
  const workerNames = new Set(workers.map((w) => w.name));
  const globalCollapse = raw.collapseRequests ?? true;
  if (typeof globalCollapse !== 'boolean')
    top('collapseRequests', `must be true or false, got ${describe(globalCollapse)}`);
  const builders = resolveBuilders(raw.builders, workerNames, globalCollapse === true, loc, issues);

  const workerPort = parsePort(raw.workerPort ?? DEFAULT_WORKER_PORT);
  if (typeof workerPort === 'string') top('workerPort', workerPort);

  let dbUrl = DEFAULT_DATABASE_URL;
  if (raw.db !== undefined) {
    if (!isObject(raw.db))
      top('db', `must be an object like { url: 'sqlite:state.sqlite' }, got ${describe(raw.db)}`);
    else if (raw.db.url !== undefined) {
      if (typeof raw.db.url !== 'string' || raw.db.url === '') top('db', 'url must be a non-empty string');
      else dbUrl = raw.db.url;
    }
  }

  const logs = { retentionDays: null as number | null, flushBytes: 64 * 1024, flushIntervalMs: 1000 };
  if (raw.logs !== undefined) {
    if (!isObject(raw.logs)) top('logs', `must be an object, got ${describe(raw.logs)}`);
    else {
      const l = raw.logs;
      if (l.retentionDays !== undefined) {
        if (typeof l.retentionDays !== 'number' || !(l.retentionDays > 0))
          top('retentionDays', 'logs.retentionDays must be a positive number of days');
        else logs.retentionDays = l.retentionDays;
      }
      if (l.flushBytes !== undefined) {
        if (!isPositiveInt(l.flushBytes)) top('flushBytes', 'logs.flushBytes must be a positive integer');
        else logs.flushBytes = l.flushBytes;
      }
      if (l.flushIntervalMs !== undefined) {
        if (!isPositiveInt(l.flushIntervalMs))
          top('flushIntervalMs', 'logs.flushIntervalMs must be a positive integer');
        else logs.flushIntervalMs = l.flushIntervalMs;
      }
    }
  }

  const masterExpirySeconds = raw.masterExpirySeconds ?? 300;
  if (!isPositiveInt(masterExpirySeconds)) top('masterExpirySeconds', 'must be a positive integer');
  const cluster = resolveCluster(raw.cluster, Number(masterExpirySeconds), top);

  const changeSources = resolveChangeSources(raw.changeSources, workerNames, loc, issues);
  const schedulers = resolveSchedulers(raw.schedulers, new Set(builders.map((b) => b.name)), loc, issues);
  for (const clash of tryUserClashes(schedulers, workerNames, changeSources)) top('schedulers', clash);
  for (const key of ['title', 'buildbotURL'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'string')
      top(key, `must be a string, got ${describe(raw[key])}`);
  }
  if (typeof raw.buildbotURL === 'string') {
    const problem = checkBuildbotURL(raw.buildbotURL);
    if (problem) top('buildbotURL', problem);
  }

  const www = resolveWww(raw.www, (raw.buildbotURL as string | undefined) ?? DEFAULT_BUILDBOT_URL, top);

  if (raw.properties !== undefined && !isPlainRecord(raw.properties))
    top('properties', 'must be a plain object');
  const secretsProviders = raw.secretsProviders ?? [];
  if (
    !Array.isArray(secretsProviders) ||
    !secretsProviders.every((p) => isObject(p) && typeof (p as Obj).get === 'function')
  )
    top('secretsProviders', 'must be an array of secret providers (objects with a get(name) method)');

  const reporters = resolveReporters(
    raw.reporters,
    { builders: new Set(builders.map((b) => b.name)), workers: workerNames },
    loc,
    issues,
  );

  if (issues.length > 0) {
    // In file order, so the report reads top to bottom like the config.
    issues.sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0));
    throw new ConfigError(file, issues);
  }
  return {
    title: (raw.title as string | undefined) ?? 'Lathe',
    buildbotURL: (raw.buildbotURL as string | undefined) ?? DEFAULT_BUILDBOT_URL,
    workers,
    builders,
    workerPort: workerPort as { port: number; host: string | null },
    dbUrl,
    logs,
    masterExpirySeconds: masterExpirySeconds as number,
    properties: (raw.properties as Obj | undefined) ?? {},
    secretsProviders: secretsProviders as ResolvedConfig['secretsProviders'],
    schedulers,
    changeSources,
    www,
    reporters,
    cluster,
  };
}

// Links are made by appending a route (`#/builders/3/builds/7`) to this URL, so it must be
// absolute and end with '/', as Buildbot requires too.
export function checkBuildbotURL(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `must be an absolute URL such as ${JSON.stringify(DEFAULT_BUILDBOT_URL)}, got ${JSON.stringify(url)}`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return `must be an http or https URL, got ${JSON.stringify(url)}`;
  if (!url.endsWith('/')) return `must end with '/', got ${JSON.stringify(url)}`;
  return null;
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function entryName(entry: unknown): string | undefined {
  return isObject(entry) && typeof entry.name === 'string' && entry.name !== '' ? entry.name : undefined;
}

/** How many earlier entries had this name (so a duplicate is located at its own line). */
function countOccurrence(seen: Map<string, number>, name: string | undefined): number {
  if (name === undefined) return 0;
  const n = seen.get(name) ?? 0;
  seen.set(name, n + 1);
  return n;
}

function label(kind: string, index: number, name: string | undefined): string {
  return name === undefined ? `${kind}[${index}]` : `${kind}[${JSON.stringify(name)}]`;
}

function resolveWorkers(raw: unknown, loc: SourceLocator, issues: ConfigIssue[]): ResolvedWorker[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    issues.push({
      path: 'workers',
      message: `must be an array, got ${describe(raw)}`,
      location: loc.locateSetting('workers'),
    });
    return [];
  }
  const out: ResolvedWorker[] = [];
  const seen = new Set<string>();
  const occurrences = new Map<string, number>();
  raw.forEach((w: unknown, i) => {
    const name = entryName(w);
    const nth = countOccurrence(occurrences, name);
    const path = label('workers', i, name);
    const issue = (field: string | undefined, message: string) =>
      issues.push({
        path: field ? `${path}.${field}` : path,
        message,
        location: loc.locate(w, name, field, nth),
      });
    if (!isObject(w)) {
      issue(undefined, `must be an object, got ${describe(w)}`);
      return;
    }
    // A latent worker's own settings were checked by its constructor.
    const latent = isLatentWorker(w) ? w : undefined;
    if (!latent) for (const key of Object.keys(w)) if (!KNOWN_WORKER.has(key)) issue(key, 'unknown field');
    if (name === undefined) issue('name', 'is required and must be a non-empty string');
    else if (!NAME_RE.test(name) || name.length > 50)
      issue('name', 'must be at most 50 letters, digits and _ . + - (not starting with . + -)');
    else if (seen.has(name)) issue('name', 'is used by another worker');
    else seen.add(name);
    if (typeof w.password !== 'string' || w.password === '')
      issue('password', 'is required and must be a non-empty string');
    if (w.maxBuilds !== undefined && !isPositiveInt(w.maxBuilds))
      issue('maxBuilds', `must be a positive integer, got ${describe(w.maxBuilds)}`);
    if (w.keepalive !== undefined && !(typeof w.keepalive === 'number' && w.keepalive > 0))
      issue('keepalive', 'must be a positive number of seconds');
    if (w.properties !== undefined && !isPlainRecord(w.properties))
      issue('properties', 'must be a plain object');
    if (w.missingTimeout !== undefined && !(typeof w.missingTimeout === 'number' && w.missingTimeout > 0))
      issue('missingTimeout', 'must be a positive number of seconds');
    const notify = w.notifyOnMissing;
    if (
      notify !== undefined &&
      !(Array.isArray(notify) && notify.every((a) => typeof a === 'string' && /^[^\s@]+@[^\s@]+$/.test(a)))
    )
      issue('notifyOnMissing', 'must be an array of mail addresses');
    out.push({
      name: name ?? '',
      password: (w.password as string) ?? '',
      maxBuilds: (w.maxBuilds as number | undefined) ?? null,
      properties: (w.properties as Obj | undefined) ?? {},
      keepalive: (w.keepalive as number | undefined) ?? DEFAULT_KEEPALIVE,
      // A latent worker is away by design; it is reported missing when it cannot be started.
      missingTimeout: latent
        ? null
        : ((w.missingTimeout as number | undefined) ??
          (notify === undefined ? null : DEFAULT_MISSING_TIMEOUT)),
      notifyOnMissing: Array.isArray(notify) ? (notify as string[]) : [],
      ...(latent && { latent, kind: 'latent' as const }),
    });
  });
  return out;
}

function resolveBuilders(
  raw: unknown,
  workerNames: ReadonlySet<string>,
  defaultCollapse: boolean,
  loc: SourceLocator,
  issues: ConfigIssue[],
): ResolvedBuilder[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    issues.push({
      path: 'builders',
      message: `must be an array, got ${describe(raw)}`,
      location: loc.locateSetting('builders'),
    });
    return [];
  }
  const out: ResolvedBuilder[] = [];
  const seen = new Set<string>();
  const occurrences = new Map<string, number>();
  raw.forEach((b: unknown, i) => {
    const name = entryName(b);
    const nth = countOccurrence(occurrences, name);
    const path = label('builders', i, name);
    const issue = (field: string | undefined, message: string) =>
      issues.push({
        path: field ? `${path}.${field}` : path,
        message,
        location: loc.locate(b, name, field, nth),
      });
    if (!isObject(b)) {
      issue(undefined, `must be an object, got ${describe(b)}`);
      return;
    }
    for (const key of Object.keys(b)) if (!KNOWN_BUILDER.has(key)) issue(key, 'unknown field');
    if (name === undefined) issue('name', 'is required and must be a non-empty string');
    else if (name.length > 255) issue('name', 'must be at most 255 characters');
    else if (seen.has(name)) issue('name', 'is used by another builder');
    else seen.add(name);

    if (!Array.isArray(b.workerNames) || b.workerNames.length === 0) {
      issue('workerNames', 'must list at least one worker');
    } else {
      b.workerNames.forEach((wn: unknown, j) => {
        if (typeof wn !== 'string') issue(`workerNames[${j}]`, `must be a worker name, got ${describe(wn)}`);
        else if (!workerNames.has(wn)) issue('workerNames', `names unknown worker ${JSON.stringify(wn)}`);
      });
    }
    const factory = b.factory;
    if (!isObject(factory) || !Array.isArray(factory.steps)) {
      issue('factory', 'must be a build factory ({ steps: [...] }, e.g. from buildFactory())');
    } else {
      factory.steps.forEach((s: unknown, j) => {
        if (!isObject(s) || typeof s.name !== 'string' || s.name === '' || typeof s.run !== 'function') {
          issue('factory', `steps[${j}] must be a step with a name and a run() method`);
        }
      });
    }
    if (b.tags !== undefined && !(Array.isArray(b.tags) && b.tags.every((t) => typeof t === 'string')))
      issue('tags', 'must be an array of strings');
    for (const field of ['description', 'project'] as const) {
      if (b[field] !== undefined && typeof b[field] !== 'string')
        issue(field, `must be a string, got ${describe(b[field])}`);
    }
    if (b.priority !== undefined && !(typeof b.priority === 'number' && Number.isFinite(b.priority)))
      issue('priority', `must be a finite number, got ${describe(b.priority)}`);
    if (b.bisect !== undefined && typeof b.bisect !== 'boolean')
      issue('bisect', `must be true or false, got ${describe(b.bisect)}`);
    for (const field of ['canStartBuild', 'nextWorker'] as const) {
      if (b[field] !== undefined && typeof b[field] !== 'function')
        issue(field, `must be a function, got ${describe(b[field])}`);
    }
    if (
      b.collapseRequests !== undefined &&
      typeof b.collapseRequests !== 'boolean' &&
      typeof b.collapseRequests !== 'function'
    )
      issue('collapseRequests', `must be true, false or a function, got ${describe(b.collapseRequests)}`);
    if (b.properties !== undefined && !isPlainRecord(b.properties))
      issue('properties', 'must be a plain object');
    if (
      b.locks !== undefined &&
      !(
        Array.isArray(b.locks) &&
        b.locks.every((l) => isObject(l) && isObject(l.lock) && typeof l.mode === 'string')
      )
    )
      issue('locks', "must be an array of lock accesses (e.g. masterLock('db').access('exclusive'))");
    if (b.workerBuilddir !== undefined && !(typeof b.workerBuilddir === 'string' && b.workerBuilddir !== ''))
      issue('workerBuilddir', `must be a non-empty string, got ${describe(b.workerBuilddir)}`);
    out.push({
      ...(b as object),
      name: name ?? '',
      workerNames: Array.isArray(b.workerNames) ? (b.workerNames as string[]) : [],
      factory: b.factory as ResolvedBuilder['factory'],
      properties: (b.properties as Obj | undefined) ?? {},
      tags: (b.tags as string[] | undefined) ?? [],
      priority: (b.priority as number | undefined) ?? 0,
      collapseRequests:
        (b.collapseRequests as ResolvedBuilder['collapseRequests'] | undefined) ?? defaultCollapse,
    } as ResolvedBuilder);
  });
  return out;
}

/** A port number or `tcp:<port>[:interface=<ip>]`; a string result is the problem. */
export function parsePort(v: unknown): { port: number; host: string | null } | string {
  if (typeof v === 'number') {
    return Number.isInteger(v) && v >= 0 && v <= 65535
      ? { port: v, host: null }
      : `port ${v} is out of range 0..65535`;
  }
  if (typeof v === 'string') {
    const m = /^tcp:(\d+)(?::interface=([^:]+))?$/.exec(v);
    if (m && Number(m[1]) <= 65535) return { port: Number(m[1]), host: m[2] ?? null };
    return `expected a port number or "tcp:<port>[:interface=<address>]", got ${JSON.stringify(v)}`;
  }
  return `expected a port number or "tcp:<port>[:interface=<address>]", got ${describe(v)}`;
}
