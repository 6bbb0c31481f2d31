// Logins on the worker port that are not workers: Buildbot shares its PB port between
// workers and other clients (a PBChangeSource's `change` user). Services register a
// username, password and avatar factory here while they run; the worker port asks.
import type { Avatar } from '@lathe/pb';

export interface PBUserRegistration {
  readonly password: string;
  /** The avatar for one login; the mind is the client's root object (sendchange sends none). */
  avatar(mind: unknown): Avatar;
}

export class PBUserTakenError extends Error {
  override readonly name = 'PBUserTakenError';
  constructor(readonly username: string) {
    super(`the PB username ${JSON.stringify(username)} is already registered on the worker port`);
  }
}

export class PBUserRegistry {
  readonly #users = new Map<string, PBUserRegistration>();

  /** Returns the function that removes this registration again. */
  register(username: string, registration: PBUserRegistration): () => void {
    if (this.#users.has(username)) throw new PBUserTakenError(username);
    this.#users.set(username, registration);
    return () => {
      if (this.#users.get(username) === registration) this.#users.delete(username);
    };
  }

  get(username: string): PBUserRegistration | undefined {
    return this.#users.get(username);
  }
}
