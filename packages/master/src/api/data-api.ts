// The data API in process: `api.get('/builders/3/builds', { limit: '50' })` answers exactly
// what `GET /api/v2/builders/3/builds?limit=50` answers over HTTP (the server calls this),
// in Buildbot's shape: `{ builds: [ … ], meta: { total?, next? } }`.
import type { CollectionRead, ColumnValue, Condition } from '../data/collection.js';
import type { DataLayer } from '../data/index.js';
import {
  encodeCursor,
  type Filter,
  type FilterValue,
  parseQuery,
  type QueryInput,
  type QuerySpec,
} from './query.js';
import { type Constraints, columnOf, type FieldDecl, isStringList, type ResourceType } from './resource.js';
import { RESOURCE_TYPES } from './resources/index.js';
import { type MatchedPath, PathRouter } from './router.js';

export type Resource = Record<string, unknown>;

export interface ApiMeta {
  /** Every match, when the query asked for it (`total=true`). */
  total?: number;
  /** The `after` cursor of the next page, when this page is full and keyset paging applies. */
  next?: string;
  /**
   * The page stopped at the scan budget before it was full (a filter no index serves): more
   * matches may follow; `next` continues after the last row examined.
   */
  scan_stopped?: true;
}

/**
 * Rows a page examines at most for a filter no index serves, walking the index in order.
 * About a millisecond of SQLite on an idle core (1,000,000 rows take ~70 ms in
 * bench/api/run.ts), so pages stay within the API's p50 < 10 ms even under load, while a
 * filter matching one row in 200 still fills a page of 50 in one read.
 */
export const DEFAULT_SCAN_BUDGET = 10_000;

export interface DataApiOptions {
  /** Rows a page examines at most for a filter no index serves (default DEFAULT_SCAN_BUDGET). */
  readonly scanBudget?: number;
}

export type ApiBody = { readonly meta: ApiMeta } & Readonly<Record<string, Resource[] | ApiMeta>>;

export class ApiNotFoundError extends Error {
  override readonly name = 'ApiNotFoundError';
  constructor(readonly path: string) {
    super(`nothing at ${path}`);
  }
}

export class DataApi {
  readonly router: PathRouter;
  readonly #types = new Map<string, ResourceType>();
  readonly #scanBudget: number;

  constructor(
    readonly data: DataLayer,
    readonly types: readonly ResourceType[] = RESOURCE_TYPES,
    options: DataApiOptions = {},
  ) {
    this.#scanBudget = options.scanBudget ?? DEFAULT_SCAN_BUDGET;
    for (const t of types) this.#types.set(t.plural, t);
    this.router = new PathRouter(types);
  }

  type(plural: string): ResourceType {
    const t = this.#types.get(plural);
    if (!t) throw new Error(`no resource type ${plural}`);
    return t;
  }

  /** Reads a path with a query; throws ApiNotFoundError (404) or QueryError (400). */
  async get(path: string, query: QueryInput = {}): Promise<ApiBody> {
    const match = this.router.match(path);
    if (!match) throw new ApiNotFoundError(path);
    const spec = parseQuery(query, match.type, match.path);
    const { resources, meta } = await this.read(match, spec);
    if (!match.path.collection && resources.length === 0) throw new ApiNotFoundError(path);
    return { [match.type.plural]: resources, meta } as ApiBody;
  }

  /** The full resource a path names, or undefined (what the message queue publishes). */
  async one(plural: string, constraints: Constraints): Promise<Resource | undefined> {
    const type = this.type(plural);
    const page = await this.#page(type, constraints, {
      filters: [],
      order: [{ field: type.idField, desc: false }],
      limit: 1,
      total: false,
      budgeted: false,
    });
    return page.resources[0];
  }

  async read(match: MatchedPath, spec: QuerySpec): Promise<{ resources: Resource[]; meta: ApiMeta }> {
    const constraints = await match.path.constraints(match.params, (t, c) => this.one(t, c), this.data, spec);
    if (!constraints) return { resources: [], meta: {} };
    if (match.path.collection) return this.#page(match.type, constraints, spec);
    const { resources } = await this.#page(match.type, constraints, { ...spec, limit: 1, total: false });
    return { resources, meta: {} };
  }

  async #page(
    type: ResourceType,
    constraints: Constraints,
    spec: QuerySpec,
  ): Promise<{ resources: Resource[]; meta: ApiMeta }> {
    const wanted = new Set(
      spec.fields ?? Object.keys(type.fields).filter((f) => !type.fields[f]!.onlyWhenAsked),
    );
    // The id (computed fields, topics) and the order fields (the cursor) are read even
    // when not asked for.
    const read = new Set([...wanted, type.idField, ...spec.order.map((t) => t.field)]);
    const columns = new Set<string>();
    for (const f of read) {
      const column = columnOf(type.fields[f]!);
      if (column) columns.add(column);
    }
    const order = spec.order.map((t) => ({ column: columnOf(type.fields[t.field]!)!, desc: t.desc }));
    const after = spec.after?.map(columnValue);
    // The last row the budget lets this page examine, undefined when fewer rows remain.
    const scanEnd = spec.budgeted
      ? await this.data.collection.keyAt(
          { table: type.table, where: constraintConditions(constraints), order, ...(after ? { after } : {}) },
          this.#scanBudget - 1,
        )
      : undefined;
    const request: CollectionRead = {
      table: type.table,
      columns: [...columns],
      where: [...constraintConditions(constraints), ...spec.filters.map((f) => filterCondition(type, f))],
      order,
      ...(after ? { after } : {}),
      ...(scanEnd ? { through: scanEnd } : {}),
      ...(spec.limit === undefined ? {} : { limit: spec.limit }),
      ...(spec.offset === undefined ? {} : { offset: spec.offset }),
      total: spec.total,
    };
    const page = await this.data.collection.read(request);
    const full = page.rows.map((row) => toResource(type, row, read));
    if (type.complete && full.length > 0)
      await type.complete(
        full,
        wanted,
        (table, cols, where) => this.data.collection.rowsWhereIn(table, cols, where.column, where.values),
        this.data,
      );
    const meta: ApiMeta = {};
    if (page.total !== undefined) meta.total = page.total;
    const last = full.at(-1);
    if (last && spec.limit !== undefined && full.length === spec.limit) {
      const values = spec.order.map((t) => last[t.field] as FilterValue);
      if (!values.includes(null)) meta.next = encodeCursor(values);
    } else if (scanEnd) {
      // Every match up to the budget's last row is on this page: continue after that row.
      meta.next = encodeCursor(scanEnd);
      meta.scan_stopped = true;
    }
    const resources = spec.fields ? full.map((r) => pick(r, wanted)) : full;
    return { resources, meta };
  }
}

function constraintConditions(constraints: Constraints): Condition[] {
  return Object.entries(constraints).map(([column, v]) =>
    Array.isArray(v)
      ? { column, op: 'in', values: v as readonly ColumnValue[] }
      : { column, op: 'eq', value: v as ColumnValue },
  );
}

function columnValue(v: FilterValue): ColumnValue {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null) throw new Error('null has no column value');
  return v;
}

function filterCondition(type: ResourceType, f: Filter): Condition {
  const decl = type.fields[f.field]!;
  const column = columnOf(decl)!;
  if ('notNull' in decl.source) {
    // `complete=true` → complete_at IS NOT NULL; several values may cover both answers.
    const wantSet = new Set(f.values.map((v) => (f.op === 'ne' || f.op === 'notin' ? !v : Boolean(v))));
    if (wantSet.size === 2) return { column, op: 'notin', values: [] };
    return { column, op: wantSet.has(true) ? 'notnull' : 'null' };
  }
  // The parser allows null only alone, with eq or ne.
  if (f.values[0] === null) return { column, op: f.op === 'eq' ? 'null' : 'notnull' };
  const values = f.values.map(columnValue);
  if (isStringList(decl)) return { column, op: 'has', values: values.map(String) };
  switch (f.op) {
    case 'contains':
      return { column, op: 'contains', values: values.map(String) };
    case 'in':
    case 'notin':
      return { column, op: f.op, values };
    case 'eq':
    case 'ne':
      return values.length === 1
        ? { column, op: f.op, value: values[0]! }
        : { column, op: f.op === 'eq' ? 'in' : 'notin', values };
    default:
      return { column, op: f.op, value: values[0]! };
  }
}

function toResource(type: ResourceType, row: Record<string, unknown>, fields: ReadonlySet<string>): Resource {
  const out: Resource = {};
  for (const name of Object.keys(type.fields)) {
    if (!fields.has(name)) continue;
    const decl: FieldDecl = type.fields[name]!;
    const src = decl.source;
    if ('notNull' in src) out[name] = row[src.notNull] !== null;
    else if ('column' in src) out[name] = fromColumn(decl, row[src.column]);
  }
  return out;
}

function fromColumn(decl: FieldDecl, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (decl.type) {
    case 'boolean':
      return value === 1 || value === true;
    case 'object':
    case 'array':
      try {
        return JSON.parse(String(value));
      } catch {
        return decl.type === 'array' ? [] : {};
      }
    default:
      return value;
  }
}

function pick(resource: Resource, fields: ReadonlySet<string>): Resource {
  const out: Resource = {};
  for (const [k, v] of Object.entries(resource)) if (fields.has(k)) out[k] = v;
  return out;
}
