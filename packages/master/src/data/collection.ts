// Reading a page of any table by column conditions: the SQL behind the data API's query
// spec (api/query.ts), kept here with the rest of the data layer's SQL. Callers name tables
// and columns from their own declarations, never from user input, so only values are bound.
import { type ExpressionBuilder, type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import type { SqlDialectName } from '../db/migrations/dialect.js';
import type { DataContext } from './context.js';

export type ColumnValue = number | string;

export type Condition =
  | {
      readonly column: string;
      readonly op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
      readonly value: ColumnValue;
    }
  | { readonly column: string; readonly op: 'in' | 'notin'; readonly values: readonly ColumnValue[] }
  /** Substring, any of the values; LIKE with `%`, `_` and `\` escaped. */
  | { readonly column: string; readonly op: 'contains'; readonly values: readonly string[] }
  /** A JSON array of strings holding any of the values as an element. */
  | { readonly column: string; readonly op: 'has'; readonly values: readonly string[] }
  | { readonly column: string; readonly op: 'null' | 'notnull' };

export interface CollectionRead {
  readonly table: string;
  readonly columns: readonly string[];
  readonly where: readonly Condition[];
  readonly order: readonly { readonly column: string; readonly desc: boolean }[];
  /** Keyset paging: rows strictly after these values of the order columns. */
  readonly after?: readonly ColumnValue[];
  /** Rows up to and including these values of the order columns (the end of a scan budget). */
  readonly through?: readonly ColumnValue[];
  readonly limit?: number;
  readonly offset?: number;
  /** Also count every row the conditions match. */
  readonly total?: boolean;
}

export interface CollectionPage {
  readonly rows: Record<string, unknown>[];
  readonly total?: number;
}

// Table and column names come from declarations, so the builder is used untyped.
type Untyped = Record<string, Record<string, unknown>>;
type Eb = ExpressionBuilder<Untyped, string>;

const SQL_OPS = { eq: '=', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' } as const;

function condition(eb: Eb, c: Condition, dialect: SqlDialectName) {
  switch (c.op) {
    case 'null':
      return eb(eb.ref(c.column), 'is', null);
    case 'notnull':
      return eb(eb.ref(c.column), 'is not', null);
    case 'in':
      return c.values.length === 0 ? sql<boolean>`1 = 0` : eb(eb.ref(c.column), 'in', [...c.values]);
    case 'notin':
      return c.values.length === 0 ? sql<boolean>`1 = 1` : eb(eb.ref(c.column), 'not in', [...c.values]);
    case 'contains': {
      // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE does the same (for all letters).
      const like = sql.raw(dialect === 'postgres' ? 'ilike' : 'like');
      return eb.or(
        c.values.map((v) => sql<boolean>`${eb.ref(c.column)} ${like} ${`%${escapeLike(v)}%`} escape '\\'`),
      );
    }
    case 'has': {
      const elements =
        dialect === 'postgres'
          ? (col: unknown) => sql`json_array_elements_text(${col}::json)`
          : (col: unknown) => sql`json_each(${col})`;
      return eb.or(
        c.values.map(
          (v) => sql<boolean>`exists (select 1 from ${elements(eb.ref(c.column))} where value = ${v})`,
        ),
      );
    }
    default:
      return eb(eb.ref(c.column), SQL_OPS[c.op], c.value);
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (m) => `\\${m}`);
}

/** `(a, b) > (x, y)` in the order's directions, written out so every database takes it. */
function afterKey(eb: Eb, read: Pick<CollectionRead, 'order'>, after: readonly ColumnValue[]) {
  return eb.or(
    read.order.map((term, i) =>
      eb.and([
        ...read.order.slice(0, i).map((prev, j) => eb(eb.ref(prev.column), '=', after[j]!)),
        eb(eb.ref(term.column), term.desc ? '<' : '>', after[i]!),
      ]),
    ),
  );
}

/**
 * `(a, b) <= (x, y)` in the order's directions: the last term inclusive, so that an order by
 * one column is a plain range an index bounds.
 */
function throughKey(eb: Eb, read: Pick<CollectionRead, 'order'>, through: readonly ColumnValue[]) {
  const last = read.order.length - 1;
  return eb.or(
    read.order.map((term, i) =>
      eb.and([
        ...read.order.slice(0, i).map((prev, j) => eb(eb.ref(prev.column), '=', through[j]!)),
        eb(eb.ref(term.column), term.desc ? (i === last ? '>=' : '>') : i === last ? '<=' : '<', through[i]!),
      ]),
    ),
  );
}

export class CollectionData {
  constructor(private readonly ctx: DataContext) {}

  async read(read: CollectionRead): Promise<CollectionPage> {
    const db = this.ctx.db as unknown as Kysely<Untyped>;
    const filtered = <O>(q: SelectQueryBuilder<Untyped, string, O>) =>
      read.where.length === 0
        ? q
        : q.where((eb) => eb.and(read.where.map((c) => condition(eb, c, this.ctx.dialect))));
    let q = this.#ordered(
      filtered(db.selectFrom(read.table).select(read.columns.map((c) => sql.ref(c).as(c)))),
      read,
    );
    if (read.through) {
      const through = read.through;
      q = q.where((eb) => throughKey(eb, read, through));
    }
    const postgres = this.ctx.dialect === 'postgres';
    if (read.limit !== undefined) q = q.limit(read.limit);
    // SQLite takes OFFSET only after a LIMIT (-1: none); PostgreSQL refuses a negative one.
    if (read.offset !== undefined)
      q = read.limit === undefined && !postgres ? q.limit(-1).offset(read.offset) : q.offset(read.offset);
    const rows = (await q.execute()) as Record<string, unknown>[];
    if (!read.total) return { rows };
    const counted = await filtered(
      db.selectFrom(read.table).select((eb) => eb.fn.countAll<number>().as('n')),
    ).executeTakeFirstOrThrow();
    return { rows, total: Number(counted.n) };
  }

  /**
   * The order columns' values of the row `position` rows (0-based) into the order under
   * `where` and `after`, or undefined when there are not that many: where a scan of a
   * bounded number of rows ends. Reads the index only.
   */
  async keyAt(
    read: Pick<CollectionRead, 'table' | 'where' | 'order' | 'after'>,
    position: number,
  ): Promise<ColumnValue[] | undefined> {
    const db = this.ctx.db as unknown as Kysely<Untyped>;
    const columns = read.order.map((t) => t.column);
    let q = db.selectFrom(read.table).select(columns.map((c) => sql.ref(c).as(c)));
    if (read.where.length > 0)
      q = q.where((eb) => eb.and(read.where.map((c) => condition(eb, c, this.ctx.dialect))));
    const row = (await this.#ordered(q, read).limit(1).offset(position).executeTakeFirst()) as
      | Record<string, ColumnValue>
      | undefined;
    return row && columns.map((c) => row[c]!);
  }

  /** Adds the keyset condition (`after`) and the ORDER BY. */
  #ordered<O>(
    q: SelectQueryBuilder<Untyped, string, O>,
    read: Pick<CollectionRead, 'order' | 'after'>,
  ): SelectQueryBuilder<Untyped, string, O> {
    if (read.after) {
      const after = read.after;
      q = q.where((eb) => afterKey(eb, read, after));
    }
    // NULL sorts first ascending on SQLite and last on PostgreSQL: say SQLite's order there.
    const postgres = this.ctx.dialect === 'postgres';
    for (const term of read.order) {
      q = q.orderBy(sql.ref(term.column), (ob) =>
        term.desc
          ? postgres
            ? ob.desc().nullsLast()
            : ob.desc()
          : postgres
            ? ob.asc().nullsFirst()
            : ob.asc(),
      );
    }
    return q;
  }

  /** Rows of `table` whose `column` is one of `values` (what computed fields read), batched. */
  async rowsWhereIn(
    table: string,
    columns: readonly string[],
    column: string,
    values: readonly ColumnValue[],
  ): Promise<Record<string, unknown>[]> {
    const db = this.ctx.db as unknown as Kysely<Untyped>;
    const out: Record<string, unknown>[] = [];
    const unique = [...new Set(values)];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await db
        .selectFrom(table)
        .select(columns.map((c) => sql.ref(c).as(c)))
        .where(sql.ref(column), 'in', unique.slice(i, i + 500))
        .orderBy(sql.ref('id'))
        .execute();
      out.push(...(rows as Record<string, unknown>[]));
    }
    return out;
  }
}
