// API tokens: created and revoked by their user over the data API. Rows hold the token's
// SHA-256, never the token; a revoked token's row is deleted, so the next request that
// presents it finds nothing.
import type { DataContext } from './context.js';

export interface ApiTokenRow {
  readonly id: number;
  readonly username: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly createdAt: number;
}

function toRow(r: {
  id: number;
  username: string;
  name: string;
  roles: string;
  created_at: number;
}): ApiTokenRow {
  let roles: unknown;
  try {
    roles = JSON.parse(r.roles);
  } catch {}
  return {
    id: r.id,
    username: r.username,
    name: r.name,
    roles: Array.isArray(roles) ? roles.filter((x): x is string => typeof x === 'string') : [],
    createdAt: r.created_at,
  };
}

export class ApiTokensData {
  constructor(private readonly ctx: DataContext) {}

  async add(spec: {
    readonly username: string;
    readonly name: string;
    readonly tokenHash: string;
    readonly roles: readonly string[];
  }): Promise<ApiTokenRow> {
    const { db, now } = this.ctx;
    const row = await db
      .insertInto('api_tokens')
      .values({
        username: spec.username,
        name: spec.name,
        token_hash: spec.tokenHash,
        roles: JSON.stringify(spec.roles),
        created_at: now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRow(row);
  }

  async byHash(tokenHash: string): Promise<ApiTokenRow | undefined> {
    const row = await this.ctx.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row && toRow(row);
  }

  async ofUser(username: string): Promise<ApiTokenRow[]> {
    const rows = await this.ctx.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('username', '=', username)
      .orderBy('id')
      .execute();
    return rows.map(toRow);
  }

  /** Deletes one of the user's tokens; false when the user has no such token. */
  async revoke(username: string, id: number): Promise<boolean> {
    const result = await this.ctx.db
      .deleteFrom('api_tokens')
      .where('id', '=', id)
      .where('username', '=', username)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
