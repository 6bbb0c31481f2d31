// Login sessions by the SHA-256 of their cookie (see auth/sessions.ts, which makes them).
import type { DataContext } from './context.js';

export interface SessionRow {
  readonly idHash: string;
  readonly username: string;
  readonly csrfToken: string;
  /** Roles an OIDC provider gave; null for the config's users (their roles are in the config). */
  readonly externalRoles: readonly string[] | null;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

function roleList(text: string | null): readonly string[] | null {
  if (text === null) return null;
  try {
    const roles: unknown = JSON.parse(text);
    return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    return [];
  }
}

export class SessionsData {
  constructor(private readonly ctx: DataContext) {}

  async add(row: SessionRow): Promise<void> {
    await this.ctx.db
      .insertInto('sessions')
      .values({
        id_hash: row.idHash,
        username: row.username,
        csrf_token: row.csrfToken,
        external_roles: row.externalRoles === null ? null : JSON.stringify(row.externalRoles),
        expires_at: row.expiresAt,
      })
      .execute();
  }

  /** The session unless it is unknown or expired at `now` (epoch seconds). */
  async byHash(idHash: string, now: number): Promise<SessionRow | undefined> {
    const r = await this.ctx.db
      .selectFrom('sessions')
      .selectAll()
      .where('id_hash', '=', idHash)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return (
      r && {
        idHash: r.id_hash,
        username: r.username,
        csrfToken: r.csrf_token,
        externalRoles: roleList(r.external_roles),
        expiresAt: r.expires_at,
      }
    );
  }

  async delete(idHash: string): Promise<void> {
    await this.ctx.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  /** Deletes expired sessions, then the soonest to expire beyond `max`. */
  async prune(now: number, max: number): Promise<void> {
    const { db } = this.ctx;
    await db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
    const beyond = db
      .selectFrom('sessions')
      .select('id_hash')
      .orderBy('expires_at', 'desc')
      .limit(1_000)
      .offset(max - 1);
    await db.deleteFrom('sessions').where('id_hash', 'in', beyond).execute();
  }
}
