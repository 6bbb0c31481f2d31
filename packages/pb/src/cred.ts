/**
 * Login over PB: Twisted's cred model (portal, checkers, realm) and its
 * challenge–response exchange.
 *
 *     client → root.login(username)                 → (challenge, challenger)
 *     client → challenger.respond(response, mind)   → avatar
 *
 * where `response = MD5(MD5(password) ‖ challenge)`. The password never crosses
 * the wire, and a refusal is the same `UnauthorizedLogin` whether the user is
 * unknown or the password wrong — the check even costs the same time.
 */

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Broker } from './broker.js';
import { UnauthorizedLogin, UnhandledCredentials } from './failure.js';
import { Referenceable, type RemoteReference } from './flavors.js';
import { tuple } from './values.js';

const md5 = (...parts: Uint8Array[]) => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The response a client sends for `challenge`: MD5(MD5(password) ‖ challenge). */
export function challengeResponse(password: string | Uint8Array, challenge: Uint8Array): Buffer {
  const pw = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  return md5(md5(pw), challenge);
}

/** Credentials from a challenge–response login: the server can test a password against them. */
export class UsernameHashedPassword {
  readonly kind = 'usernamePassword';
  constructor(
    readonly username: Uint8Array,
    readonly challenge: Uint8Array,
    readonly response: Uint8Array,
  ) {}
  get usernameText(): string {
    return Buffer.from(this.username).toString('utf8');
  }
  /** True if `password` (plain text) produced the response. Constant time. */
  checkPassword(password: string | Uint8Array): boolean {
    return equal(challengeResponse(password, this.challenge), this.response);
  }
  /** True if the stored MD5 digest of the password produced the response. */
  checkMD5Password(passwordDigest: Uint8Array): boolean {
    return equal(md5(passwordDigest, this.challenge), this.response);
  }
}

export class AnonymousCredentials {
  readonly kind = 'anonymous';
}

export type Credentials = UsernameHashedPassword | AnonymousCredentials;

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The avatar id of an anonymous login: Twisted's empty tuple. */
export const ANONYMOUS = tuple();
export type AvatarId = string | typeof ANONYMOUS;

/** Decides who the credentials belong to, or throws UnauthorizedLogin. */
export interface Checker {
  readonly credentialKinds: ReadonlyArray<Credentials['kind']>;
  requestAvatarId(credentials: Credentials): AvatarId | Promise<AvatarId>;
}

/** Checks usernames and plain-text passwords held in memory (or looked up on demand). */
export class PasswordChecker implements Checker {
  readonly credentialKinds = ['usernamePassword'] as const;
  private readonly lookup: (username: string) => string | undefined | Promise<string | undefined>;
  constructor(
    users: Record<string, string> | ((username: string) => string | undefined | Promise<string | undefined>),
  ) {
    this.lookup =
      typeof users === 'function' ? users : (u) => (Object.hasOwn(users, u) ? users[u] : undefined);
  }
  async requestAvatarId(credentials: Credentials): Promise<AvatarId> {
    if (!(credentials instanceof UsernameHashedPassword))
      throw new UnhandledCredentials('username/password only');
    const name = credentials.usernameText;
    const password = await this.lookup(name);
    // Check against a throwaway password for unknown users so both paths cost the same.
    const ok = credentials.checkPassword(password ?? randomBytes(16));
    if (password === undefined || !ok) throw new UnauthorizedLogin();
    return name;
  }
}

/** Lets anyone in as {@link ANONYMOUS}. */
export class AnonymousChecker implements Checker {
  readonly credentialKinds = ['anonymous'] as const;
  requestAvatarId(): AvatarId {
    return ANONYMOUS;
  }
}

export interface LoginResult {
  avatar: Referenceable;
  /** Runs once when the client disconnects or drops its last reference to the avatar. */
  logout?: () => void;
}

/** Turns an authenticated id into the avatar that serves it. */
export interface Realm {
  requestAvatar(avatarId: AvatarId, mind: unknown, broker: Broker): LoginResult | Promise<LoginResult>;
}

/** Joins checkers to a realm. */
export class Portal {
  constructor(
    readonly realm: Realm,
    readonly checkers: Checker[] = [],
  ) {}

  async login(credentials: Credentials, mind: unknown, broker: Broker): Promise<LoginResult> {
    const checker = this.checkers.find((c) => c.credentialKinds.includes(credentials.kind));
    if (!checker) throw new UnhandledCredentials(`no checker for ${credentials.kind} credentials`);
    const avatarId = await checker.requestAvatarId(credentials);
    broker.markAuthenticated();
    return this.realm.requestAvatar(avatarId, mind, broker);
  }
}

/** Hook to refuse or slow down logins before they are checked (rate limiting). */
export type LoginGate = (username: string | null, broker: Broker) => void | Promise<void>;

/**
 * The root object a cred-protected PB server exposes: `login` and `loginAnonymous`.
 * One per connection, since the challenge and the logout belong to that connection.
 */
export class PortalRoot extends Referenceable {
  private loggedOut = false;
  constructor(
    readonly portal: Portal,
    readonly broker: Broker,
    private readonly gate?: LoginGate,
    private readonly onLoginFailed?: (username: string | null, error: unknown, broker: Broker) => void,
  ) {
    super();
  }

  async remote_login(username: unknown) {
    const name = username instanceof Uint8Array ? username : Buffer.from(String(username), 'utf8');
    const challenge = md5(randomBytes(32));
    return tuple<unknown>(challenge, new Challenger(this, name, challenge));
  }

  async remote_loginAnonymous(mind: unknown) {
    await this.gate?.(null, this.broker);
    return this.finish(new AnonymousCredentials(), mind, null);
  }

  /** @internal */
  async finish(credentials: Credentials, mind: unknown, username: string | null): Promise<Referenceable> {
    let result: LoginResult;
    try {
      result = await this.portal.login(credentials, mind, this.broker);
    } catch (err) {
      this.onLoginFailed?.(username, err, this.broker);
      throw err;
    }
    const { avatar, logout } = result;
    this.broker.perspective = avatar;
    if (logout) {
      const once = () => {
        if (this.loggedOut) return;
        this.loggedOut = true;
        logout();
      };
      this.broker.notifyOnDisconnect(once);
      const previous = this.broker.onUnexported;
      this.broker.onUnexported = (obj) => {
        previous?.(obj);
        if (obj === avatar) once();
      };
    }
    return avatar;
  }

  /** @internal */
  async checkGate(username: string): Promise<void> {
    await this.gate?.(username, this.broker);
  }
}

class Challenger extends Referenceable {
  private used = false;
  constructor(
    private readonly root: PortalRoot,
    private readonly username: Uint8Array,
    private readonly challenge: Uint8Array,
  ) {
    super();
  }
  async remote_respond(response: unknown, mind: unknown) {
    if (this.used) throw new UnauthorizedLogin();
    this.used = true;
    const creds = new UsernameHashedPassword(
      this.username,
      this.challenge,
      response instanceof Uint8Array ? response : new Uint8Array(),
    );
    await this.root.checkGate(creds.usernameText);
    return this.root.finish(creds, mind, creds.usernameText);
  }
}

/** Client side of the challenge–response login. Returns the avatar's reference. */
export async function login(
  root: RemoteReference,
  username: string | Uint8Array,
  password: string | Uint8Array,
  mind: unknown = null,
): Promise<RemoteReference> {
  const user = typeof username === 'string' ? Buffer.from(username, 'utf8') : username;
  const answer = await root.callRemote<unknown[]>('login', user);
  if (!Array.isArray(answer) || !(answer[0] instanceof Uint8Array)) {
    throw new Error('login: the server answered with an unexpected challenge');
  }
  const [challenge, challenger] = answer as [Uint8Array, RemoteReference];
  const avatar = challenger.callRemote<RemoteReference>(
    'respond',
    challengeResponse(password, challenge),
    mind,
  );
  challenger.release();
  return root.broker.pin(await avatar);
}

/** Client side of an anonymous login. */
export async function loginAnonymous(root: RemoteReference, mind: unknown = null): Promise<RemoteReference> {
  return root.broker.pin(await root.callRemote<RemoteReference>('loginAnonymous', mind));
}
