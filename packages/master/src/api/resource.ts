// What a resource type declares: its fields (and the column each comes from), the paths it
// lives at, and what those paths constrain. The query spec, the REST server, the OpenAPI
// document and the in-process reads are all derived from these declarations, so a path
// answers the same wherever it is read from.
import type { DataLayer } from '../data/index.js';
import type { QuerySpec } from './query.js';

export type FieldType = 'integer' | 'number' | 'string' | 'boolean' | 'object' | 'array';

/** Where a field's value comes from. */
export type FieldSource =
  /** A column of the resource's table, converted by the field's type (0/1 → boolean, JSON text → object). */
  | { readonly column: string }
  /** true when the column is not NULL (`complete` from `complete_at`). */
  | { readonly notNull: string }
  /** Filled in after the page is read (lists from other tables); cannot be filtered or ordered. */
  | { readonly computed: true };

export interface FieldDecl {
  readonly type: FieldType;
  readonly nullable?: boolean;
  readonly description: string;
  readonly source: FieldSource;
  /** JSON schema of an object or array field's value, for the OpenAPI document. */
  readonly schema?: Readonly<Record<string, unknown>>;
  /**
   * A computed field that costs reads of other tables and serves one view: given only when
   * `field=` names it, never in a read of every field.
   */
  readonly onlyWhenAsked?: boolean;
}

/** `integers`: comma-separated integers (`30,29,28`), kept as the text for the path to read. */
export type ParamType = 'integer' | 'identifier' | 'integers';

/**
 * Equality constraints on columns; a list means "one of". What a path adds to every query
 * (`/builders/:builderid/builds` → `{ builderid: 3 }`).
 */
export type Constraints = Readonly<Record<string, number | string | readonly (number | string)[]>>;

/** Reads a resource while resolving a path (the build a nested step path names). */
export type Lookup = (
  type: string,
  constraints: Constraints,
) => Promise<Readonly<Record<string, unknown>> | undefined>;

export interface PathDecl {
  /** `/builders/:builderid/builds/:number`; `:name` segments are params. */
  readonly pattern: string;
  /**
   * Types of the params; integer params match digits only, integers digits and commas,
   * identifiers anything else. A path of integers comes after the same path of one integer.
   */
  readonly params: Readonly<Record<string, ParamType>>;
  /** One resource (404 when absent) or a collection. */
  readonly collection: boolean;
  readonly description: string;
  /**
   * The constraints the path adds, or undefined when the path names something that does not
   * exist. `spec` is the query the path is read with, for paths whose constraints are a
   * computed set of ids that the query's filters narrow (`/lastbuilds/:count`).
   */
  readonly constraints: (
    params: Readonly<Record<string, number | string>>,
    lookup: Lookup,
    data: DataLayer,
    spec?: QuerySpec,
  ) => Constraints | undefined | Promise<Constraints | undefined>;
  /**
   * For a collection that grows with history (builds, requests, changes): the fields an
   * index serves in order under this path's constraints, first one the default. Ordering
   * by anything else is refused, so no read sorts a builder's whole history. Absent: the
   * collection is bounded (a build's steps, the configured builders) and any order is fine.
   */
  readonly indexedOrder?: readonly string[];
  /**
   * Fields whose filters an index answers under this path without walking its history
   * (unfinished builds, a worker's builds). A filter on any other field of a collection
   * with an `indexedOrder` reads at most the scan budget of rows per page (api/data-api.ts).
   */
  readonly indexedFilters?: readonly string[];
}

export interface ResourceType {
  /** Singular name, e.g. `build`. */
  readonly name: string;
  /** Plural, the key of the answer's list, e.g. `builds`. */
  readonly plural: string;
  readonly table: string;
  /** The field that identifies a resource (`buildid`); always the table's `id` column. */
  readonly idField: string;
  readonly description: string;
  readonly fields: Readonly<Record<string, FieldDecl>>;
  readonly paths: readonly PathDecl[];
  /** Fills the computed fields of a page of resources (batched: one query per field, not per row). */
  readonly complete?: (
    resources: Record<string, unknown>[],
    fields: ReadonlySet<string>,
    read: ComputedReader,
    data: DataLayer,
  ) => Promise<void>;
  /** Topics a resource lives at on the message queue, for an event `what` (`new`, `finished`…). */
  readonly topics: (resource: Readonly<Record<string, unknown>>, what: string) => string[];
}

/** What computed fields may read: rows of other tables by a column's values. */
export type ComputedReader = (
  table: string,
  columns: readonly string[],
  where: { readonly column: string; readonly values: readonly (number | string)[] },
) => Promise<Record<string, unknown>[]>;

export function isFilterable(field: FieldDecl): boolean {
  return !('computed' in field.source) && field.type !== 'object' && field.type !== 'array';
}

/** A list of strings held as JSON text (a builder's tags): filtered by element, with `contains`. */
export function isStringList(field: FieldDecl): boolean {
  const items = field.schema?.items as { type?: unknown } | undefined;
  return 'column' in field.source && field.type === 'array' && items?.type === 'string';
}

export function columnOf(field: FieldDecl): string | undefined {
  if ('column' in field.source) return field.source.column;
  if ('notNull' in field.source) return field.source.notNull;
  return undefined;
}

/** Ordering needs the column's own values (a derived boolean would not page by key). */
export function isOrderable(field: FieldDecl): boolean {
  return 'column' in field.source && isFilterable(field);
}
