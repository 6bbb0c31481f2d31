// What a reconfig changes. Entries are matched by name; an entry is "changed" when its
// fingerprint differs. Reloading re-creates every object and function, so identity says
// nothing: functions are compared by source text and class instances by class and fields.
// (Two closures with the same text but different captured values compare equal — the
// price of not being able to look inside closures.)
import type { ChangeSourceConfig } from '../changes/create.js';
import type { AnySchedulerConfig } from '../schedulers/config.js';
import type { ResolvedBuilder, ResolvedConfig, ResolvedWorker } from './types.js';

export interface EntryChange<T> {
  readonly name: string;
  readonly old: T;
  readonly new: T;
}

export interface EntryDiff<T> {
  readonly added: readonly T[];
  readonly changed: readonly EntryChange<T>[];
  readonly removed: readonly T[];
  readonly unchanged: readonly string[];
}

export interface ConfigDiff {
  readonly workers: EntryDiff<ResolvedWorker>;
  readonly builders: EntryDiff<ResolvedBuilder>;
  readonly changeSources: EntryDiff<ChangeSourceConfig>;
  readonly schedulers: EntryDiff<AnySchedulerConfig>;
  /** Top-level settings whose value changed (workerPort, db, …). */
  readonly settings: readonly string[];
}

export function diffEntries<T extends { readonly name: string }>(
  oldList: readonly T[],
  newList: readonly T[],
): EntryDiff<T> {
  const oldByName = new Map(oldList.map((e) => [e.name, e]));
  const newNames = new Set(newList.map((e) => e.name));
  const added: T[] = [];
  const changed: EntryChange<T>[] = [];
  const unchanged: string[] = [];
  for (const entry of newList) {
    const old = oldByName.get(entry.name);
    if (!old) added.push(entry);
    else if (fingerprint(old) !== fingerprint(entry)) changed.push({ name: entry.name, old, new: entry });
    else unchanged.push(entry.name);
  }
  const removed = oldList.filter((e) => !newNames.has(e.name));
  return { added, changed, removed, unchanged };
}

// Lists of named entries, diffed entry by entry rather than as one setting.
const ENTRY_LISTS = new Set<keyof ResolvedConfig>(['workers', 'builders', 'changeSources', 'schedulers']);

export function diffConfigs(old: ResolvedConfig | null, next: ResolvedConfig): ConfigDiff {
  const settings: string[] = [];
  if (old) {
    for (const key of Object.keys(next) as (keyof ResolvedConfig)[]) {
      if (ENTRY_LISTS.has(key)) continue;
      if (fingerprint(old[key]) !== fingerprint(next[key])) settings.push(key);
    }
  }
  return {
    workers: diffEntries(old?.workers ?? [], next.workers),
    builders: diffEntries(old?.builders ?? [], next.builders),
    changeSources: diffEntries(old?.changeSources ?? [], next.changeSources),
    schedulers: diffEntries(old?.schedulers ?? [], next.schedulers),
    settings,
  };
}

/** A canonical text for a config value: equal for equal configs across reloads. */
export function fingerprint(value: unknown): string {
  const seen = new Set<object>();
  const walk = (v: unknown): string => {
    if (v === undefined) return 'undefined';
    if (typeof v === 'function') return `fn:${v.toString()}`;
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'symbol') return v.toString();
    if (typeof v !== 'object' || v === null) return JSON.stringify(v);
    if (seen.has(v)) return '[cycle]';
    seen.add(v);
    let out: string;
    if (Array.isArray(v)) out = `[${v.map(walk).join(',')}]`;
    else if (v instanceof Date) out = `Date(${v.toISOString()})`;
    else if (v instanceof RegExp) out = v.toString();
    else {
      const proto = Object.getPrototypeOf(v) as {
        constructor?: { name?: string; toString(): string };
      } | null;
      const cls =
        proto && proto !== Object.prototype && proto.constructor ? `${proto.constructor.toString()}` : '';
      const keys = Object.keys(v).sort();
      out = `${cls}{${keys.map((k) => `${JSON.stringify(k)}:${walk((v as Record<string, unknown>)[k])}`).join(',')}}`;
    }
    seen.delete(v);
    return out;
  };
  return walk(value);
}
