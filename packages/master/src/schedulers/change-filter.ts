// Which changes a scheduler looks at. Each field given must match; a field left out
// matches everything. `branch: null` means the default branch (a change without a branch),
// as in Buildbot.
import type { ChangeRow } from '../data/changes.js';

/** A value, a list of values, a pattern, or a test. */
export type ValueMatcher =
  | string
  | null
  | readonly (string | null)[]
  | RegExp
  | ((value: string | null) => boolean);

export interface ChangeFilter {
  readonly branch?: ValueMatcher;
  readonly repository?: ValueMatcher;
  readonly project?: ValueMatcher;
  readonly category?: ValueMatcher;
  readonly codebase?: ValueMatcher;
  /** A last say over the whole change. */
  readonly filterFn?: (change: ChangeRow) => boolean;
}

const FIELDS = ['branch', 'repository', 'project', 'category', 'codebase'] as const;

export function matchValue(matcher: ValueMatcher, value: string | null): boolean {
  if (typeof matcher === 'function') return matcher(value);
  if (matcher instanceof RegExp) return value !== null && matcher.test(value);
  if (Array.isArray(matcher)) return matcher.includes(value);
  return matcher === value;
}

export function changeMatches(filter: ChangeFilter, change: ChangeRow): boolean {
  for (const field of FIELDS) {
    const matcher = filter[field];
    if (matcher !== undefined && !matchValue(matcher, change[field])) return false;
  }
  return filter.filterFn ? filter.filterFn(change) : true;
}

/** Whether a config value is a ValueMatcher (for validation). */
export function isValueMatcher(v: unknown): v is ValueMatcher {
  return (
    v === null ||
    typeof v === 'string' ||
    typeof v === 'function' ||
    v instanceof RegExp ||
    (Array.isArray(v) && v.every((x) => x === null || typeof x === 'string'))
  );
}
