// Login sessions: a random id (the cookie) and a CSRF token bound to it. Stored in the
// database by the SHA-256 of the id, so a restart of the master (or another master serving
// the same UI) keeps people logged in, and reading the database gives no one a session.
import { createHash, randomBytes } from 'node:crypto';
import { epochSeconds } from '../data/context.js';
import type { SessionsData } from '../data/sessions.js';

export interface Session {
  readonly id: string;
  readonly user: string;
  readonly csrfToken: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /** Set for a user logged in with OIDC: the roles the provider gave (config users have theirs in the config). */
  readonly externalRoles?: readonly string[];
}

// Bounded: past it, the sessions closest to expiring go first.
const MAX_SESSIONS = 10_000;
const ID_FORMAT = /^[A-Za-z0-9_-]{43}$/;

function idHash(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

export class SessionStore {
  constructor(
    private readonly data: SessionsData,
    private readonly lifetimeSeconds: number,
    private readonly now: () => number = epochSeconds,
  ) {}

  async create(user: string, externalRoles?: readonly string[]): Promise<Session> {
    await this.data.prune(this.now(), MAX_SESSIONS);
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      user,
      csrfToken: randomBytes(32).toString('base64url'),
      expiresAt: this.now() + this.lifetimeSeconds,
      ...(externalRoles ? { externalRoles } : {}),
    };
    await this.data.add({
      idHash: idHash(session.id),
      username: user,
      csrfToken: session.csrfToken,
      externalRoles: externalRoles ?? null,
      expiresAt: session.expiresAt,
    });
    return session;
  }

  /** The live session of a cookie's id; undefined for anything else (never a database error for junk). */
  async get(id: string): Promise<Session | undefined> {
    if (!ID_FORMAT.test(id)) return undefined;
    const row = await this.data.byHash(idHash(id), this.now());
    if (!row) return undefined;
    return {
      id,
      user: row.username,
      csrfToken: row.csrfToken,
      expiresAt: row.expiresAt,
      ...(row.externalRoles ? { externalRoles: row.externalRoles } : {}),
    };
  }

  async delete(id: string): Promise<void> {
    await this.data.delete(idHash(id));
  }
}
