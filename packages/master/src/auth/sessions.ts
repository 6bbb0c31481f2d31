// Login sessions, in memory: a random id (the cookie) and a CSRF token bound to it. A master
// restart logs everyone out; API tokens are what survives.
import { randomBytes } from 'node:crypto';

export interface Session {
  readonly id: string;
  readonly user: string;
  readonly csrfToken: string;
  readonly expiresAt: number;
  /** Set for a user logged in with OIDC: the roles the provider gave (config users have theirs in the config). */
  readonly externalRoles?: readonly string[];
}

const MAX_SESSIONS = 10_000;

export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  constructor(
    private readonly lifetimeSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  create(user: string, externalRoles?: readonly string[]): Session {
    this.#prune();
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      user,
      csrfToken: randomBytes(32).toString('base64url'),
      expiresAt: this.now() + this.lifetimeSeconds * 1000,
      ...(externalRoles ? { externalRoles } : {}),
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  get(id: string): Session | undefined {
    const s = this.#sessions.get(id);
    if (s && s.expiresAt <= this.now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return s;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  #prune(): void {
    const now = this.now();
    for (const [id, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(id);
    // Bounded: the oldest go first (a Map iterates in insertion order).
    for (const id of this.#sessions.keys()) {
      if (this.#sessions.size < MAX_SESSIONS) break;
      this.#sessions.delete(id);
    }
  }
}
