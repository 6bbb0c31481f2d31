// The one query spec every collection takes, and its HTTP form (Buildbot's):
//   field=a&field=b            fields to return (default all)
//   name=x / name__eq=x        filters: eq ne lt le gt ge contains in notin; a repeated
//                              eq/ne/in/notin/contains means "any of"; `null` matches NULL;
//                              on a list of strings (tags) only contains: has that element
//   order=-number              order (repeatable), '-' for descending
//   limit=50&offset=100        a page by position
//   after=<cursor>             a page by key (keyset): `meta.next` of the previous page
//   total=true                 also count every match (`meta.total`)
// Every mistake is a QueryError naming the parameter and, where there is one, the field.
import {
  type FieldDecl,
  isFilterable,
  isOrderable,
  isStringList,
  type PathDecl,
  type ResourceType,
} from './resource.js';

export const FILTER_OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'contains', 'in', 'notin'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export type FilterValue = number | string | boolean | null;

export interface Filter {
  readonly field: string;
  readonly op: FilterOp;
  readonly values: readonly FilterValue[];
}

export interface OrderTerm {
  readonly field: string;
  readonly desc: boolean;
}

export interface QuerySpec {
  /** Undefined: every field. */
  readonly fields?: readonly string[];
  readonly filters: readonly Filter[];
  readonly order: readonly OrderTerm[];
  readonly limit?: number;
  readonly offset?: number;
  /** Keyset paging: the order fields' values of the last row already seen. */
  readonly after?: readonly FilterValue[];
  readonly total: boolean;
  /**
   * A filter no index serves on a collection that grows with history: the page examines
   * at most the scan budget of rows (DataApi's `scanBudget`).
   */
  readonly budgeted: boolean;
}

/** A page never holds more than this many resources. */
export const MAX_LIMIT = 1000;
/** The page size of a collection that grows with history when the query gives none. */
export const DEFAULT_HISTORY_LIMIT = 200;

export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(
    /** The query parameter at fault (`results__lt`, `order`, `limit`). */
    readonly param: string,
    message: string,
    /** The resource field involved, if any. */
    readonly field?: string,
  ) {
    super(message);
  }
}

const PAGING = new Set(['field', 'order', 'limit', 'offset', 'after', 'total']);

export type QueryInput = URLSearchParams | Readonly<Record<string, string | readonly string[] | undefined>>;

function entries(input: QueryInput): [string, string][] {
  if (input instanceof URLSearchParams) return [...input.entries()];
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    for (const one of typeof v === 'string' ? [v] : v) out.push([k, one]);
  }
  return out;
}

/** Parses and checks a query against the resource type and the path it is read at. */
export function parseQuery(input: QueryInput, type: ResourceType, path: PathDecl): QuerySpec {
  const byParam = new Map<string, string[]>();
  for (const [k, v] of entries(input)) {
    const list = byParam.get(k) ?? [];
    list.push(v);
    byParam.set(k, list);
  }
  const field = (param: string, name: string): FieldDecl => {
    const decl = type.fields[name];
    if (!decl) throw new QueryError(param, `${type.plural} have no field ${JSON.stringify(name)}`, name);
    return decl;
  };

  let fields: string[] | undefined;
  const filters: Filter[] = [];
  let order: OrderTerm[] = [];
  let limit: number | undefined;
  let offset: number | undefined;
  let after: FilterValue[] | undefined;
  let total = false;

  for (const [param, values] of byParam) {
    if (PAGING.has(param)) {
      const one = values.at(-1)!;
      switch (param) {
        case 'field':
          fields = values.flatMap((v) => v.split(',')).filter((f) => f !== '');
          for (const f of fields) field(param, f);
          break;
        case 'order':
          order = values
            .flatMap((v) => v.split(','))
            .filter((v) => v !== '')
            .map((v) => {
              const desc = v.startsWith('-');
              const name = desc ? v.slice(1) : v;
              if (!isOrderable(field(param, name)))
                throw new QueryError(param, `${type.plural} cannot be ordered by ${name}`, name);
              return { field: name, desc };
            });
          break;
        case 'limit':
          limit = nonNegativeInteger(param, one);
          if (limit > MAX_LIMIT)
            throw new QueryError(param, `limit ${limit} is above the maximum ${MAX_LIMIT}`);
          break;
        case 'offset':
          offset = nonNegativeInteger(param, one);
          break;
        case 'after':
          after = decodeCursor(one);
          break;
        case 'total':
          total = parseBoolean(param, one);
          break;
      }
      continue;
    }
    const split = param.lastIndexOf('__');
    const name = split < 0 ? param : param.slice(0, split);
    const op = split < 0 ? 'eq' : param.slice(split + 2);
    const decl = type.fields[name];
    if (!decl) {
      if (split >= 0)
        throw new QueryError(param, `${type.plural} have no field ${JSON.stringify(name)}`, name);
      throw new QueryError(param, `unknown query parameter ${JSON.stringify(param)}`);
    }
    if (!(FILTER_OPS as readonly string[]).includes(op))
      throw new QueryError(
        param,
        `unknown filter operator ${JSON.stringify(op)} on ${name} (one of ${FILTER_OPS.join(', ')})`,
        name,
      );
    if (isStringList(decl) && op !== 'contains')
      throw new QueryError(param, `${name} is a list: filter it with ${name}__contains only`, name);
    if (!isFilterable(decl) && !isStringList(decl))
      throw new QueryError(param, `${type.plural} cannot be filtered by ${name}`, name);
    filters.push(parseFilter(param, name, op as FilterOp, decl, values));
  }

  if (order.length === 0) {
    const first = path.indexedOrder?.[0];
    order = first ? [{ field: first, desc: true }] : [{ field: type.idField, desc: false }];
  }
  if (path.indexedOrder) {
    for (const term of order)
      if (!path.indexedOrder.includes(term.field))
        throw new QueryError(
          'order',
          `${path.pattern} can be ordered by ${path.indexedOrder.join(' or ')} only (what an index serves), not ${term.field}`,
          term.field,
        );
    limit ??= DEFAULT_HISTORY_LIMIT;
  }
  // A unique last term makes the order total, which keyset paging needs.
  if (!order.some((t) => t.field === type.idField || path.indexedOrder?.[0] === t.field))
    order = [...order, { field: type.idField, desc: order.at(-1)?.desc ?? false }];
  if (after && offset !== undefined) throw new QueryError('after', 'after and offset cannot be combined');
  const budgeted =
    path.indexedOrder !== undefined && filters.some((f) => !path.indexedFilters?.includes(f.field));
  // Matches skipped by position would have to be counted through the whole history.
  if (budgeted && offset !== undefined)
    throw new QueryError(
      'offset',
      `offset cannot be combined with a filter on ${path.pattern} that no index serves; page with meta.next`,
    );
  if (after && after.length !== order.length)
    throw new QueryError('after', 'the cursor was made for another order');

  return {
    ...(fields ? { fields } : {}),
    filters,
    order,
    ...(limit === undefined ? {} : { limit }),
    ...(offset === undefined ? {} : { offset }),
    ...(after ? { after } : {}),
    total,
    budgeted,
  };
}

function parseFilter(
  param: string,
  name: string,
  op: FilterOp,
  decl: FieldDecl,
  raw: readonly string[],
): Filter {
  const values = raw.map((v) => parseValue(param, name, decl, v));
  if (values.length > 1 && !['eq', 'ne', 'in', 'notin', 'contains'].includes(op))
    throw new QueryError(param, `${name}__${op} takes one value, got ${values.length}`, name);
  if (values.includes(null) && ((op !== 'eq' && op !== 'ne') || values.length > 1))
    throw new QueryError(param, `${name} can be compared with null by one eq or ne only`, name);
  if (decl.type === 'boolean' && !['eq', 'ne', 'in', 'notin'].includes(op))
    throw new QueryError(param, `${name} is true or false: eq, ne, in or notin only`, name);
  if (op === 'contains' && decl.type !== 'string' && decl.type !== 'array')
    throw new QueryError(param, `contains applies to text fields; ${name} is ${decl.type}`, name);
  return { field: name, op, values };
}

function parseValue(param: string, name: string, decl: FieldDecl, text: string): FilterValue {
  if (text === 'null' && decl.nullable) return null;
  switch (decl.type) {
    case 'integer':
      if (!/^-?\d+$/.test(text))
        throw new QueryError(param, `${name} is an integer, not ${JSON.stringify(text)}`, name);
      return Number(text);
    case 'number':
      if (text.trim() === '' || !Number.isFinite(Number(text)))
        throw new QueryError(param, `${name} is a number, not ${JSON.stringify(text)}`, name);
      return Number(text);
    case 'boolean':
      return parseBoolean(param, text, name);
    default:
      return text;
  }
}

function parseBoolean(param: string, text: string, name?: string): boolean {
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw new QueryError(param, `${name ?? param} is true or false, not ${JSON.stringify(text)}`, name);
}

function nonNegativeInteger(param: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new QueryError(param, `${param} must be a non-negative integer`);
  return Number(text);
}

/** The cursor of the next page: the order fields' values of a page's last resource. */
export function encodeCursor(values: readonly FilterValue[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function decodeCursor(text: string): FilterValue[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (
      Array.isArray(values) &&
      values.every((v) => ['number', 'string', 'boolean'].includes(typeof v) || v === null)
    )
      return values as FilterValue[];
  } catch {}
  throw new QueryError('after', 'after is not a cursor this server handed out');
}
