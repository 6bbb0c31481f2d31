// Authentication over HTTP: who each request comes from (a bearer token, the session
// cookie, or nobody), read permission on every data API read, CSRF on every state-changing
// request that a session cookie authenticates, and the /auth routes: login (throttled),
// logout, me, and the user's API tokens.
//
// CSRF: a session has a random token, given by the login answer and by GET /auth/me; a
// POST/DELETE authenticated by the session cookie must send it back as X-CSRF-Token. A
// cross-site page can make the browser send the cookie but cannot read the token. Bearer
// tokens are not sent by browsers on their own, so requests carrying one need no CSRF token.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  anonymousIdentity,
  credentialKey,
  externalIdentity,
  type Identity,
  userIdentity,
} from '../auth/identity.js';
import { verifyNothing, verifyPassword } from '../auth/password.js';
import { type Session, SessionStore } from '../auth/sessions.js';
import { LoginThrottle } from '../auth/throttle.js';
import { apiTokenHash, newApiToken } from '../auth/tokens.js';
import type { Permission, ResolvedAuth } from '../config/www-auth.js';
import type { ApiTokenRow, ApiTokensData } from '../data/api-tokens.js';
import type { SessionsData } from '../data/sessions.js';
import type { RealtimeGuard } from './realtime.js';

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity;
  }
}

export const SESSION_COOKIE = 'lathe_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** 401: not logged in (or a bad token); 403: logged in, not allowed; 429: too many failed logins. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    readonly status: 401 | 403 | 429,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export interface HttpAuthOptions {
  /** The current `www.auth` (read per request, so a reconfig applies at once). */
  readonly auth: () => ResolvedAuth;
  readonly tokens: ApiTokensData;
  readonly sessions: SessionsData;
  /** Mark the session cookie Secure (the master is reached over https). */
  readonly secureCookies: boolean;
  readonly apiPrefix: string;
  readonly log: (line: string) => void;
}

/** A cookie the request carries. */
export function cookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function bodyObject(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b))
    throw new BadAuthRequest('the body must be a JSON object');
  return b as Record<string, unknown>;
}

/** 400 for a malformed /auth request. */
export class BadAuthRequest extends Error {
  override readonly name = 'BadAuthRequest';
}

const tokenView = (t: ApiTokenRow) => ({ id: t.id, name: t.name, roles: t.roles, createdAt: t.createdAt });

export class HttpAuth implements RealtimeGuard {
  readonly sessions: SessionStore;
  readonly throttle: LoginThrottle;
  /** Closers of realtime connections, by the credential they were opened with. */
  readonly #connections = new Map<string, Set<() => void>>();

  constructor(private readonly options: HttpAuthOptions) {
    const auth = options.auth();
    this.sessions = new SessionStore(options.sessions, auth.sessionSeconds);
    this.throttle = new LoginThrottle(auth.loginThrottle);
  }

  /** Throws AuthError(401) for a bad or revoked bearer token; a stale session cookie is no session. */
  async identify(req: FastifyRequest): Promise<Identity> {
    const auth = this.options.auth();
    const header = req.headers.authorization;
    if (header !== undefined) {
      const token = /^Bearer +(\S+)$/i.exec(header)?.[1];
      if (!token) throw new AuthError(401, 'the Authorization header must be "Bearer <token>"');
      const hash = apiTokenHash(token);
      const row = hash === undefined ? undefined : await this.options.tokens.byHash(hash);
      const identity = row && userIdentity(auth, row.username, { kind: 'token', tokenId: row.id }, row.roles);
      if (!identity) throw new AuthError(401, 'unknown or revoked API token');
      return identity;
    }
    const sid = cookie(req, SESSION_COOKIE);
    const session = sid === undefined ? undefined : await this.sessions.get(sid);
    if (session) {
      const credential = { kind: 'session', sessionId: session.id } as const;
      if (session.externalRoles)
        return externalIdentity(auth, session.user, session.externalRoles, credential);
      const identity = userIdentity(auth, session.user, credential);
      if (identity) return identity;
    }
    return anonymousIdentity(auth);
  }

  /** AuthError(401) for anonymous, 403 for a user without the permission. */
  require(identity: Identity, permission: Permission, what: string): void {
    if (identity.permissions.has(permission)) return;
    if (identity.user === null) throw new AuthError(401, `log in or send an API token to ${what}`);
    throw new AuthError(
      403,
      `${identity.user} may not ${what}: no role with the ${permission} permission (roles: ${identity.roles.join(', ') || 'none'})`,
    );
  }

  async mayRead(req: FastifyRequest): Promise<boolean> {
    try {
      return (await this.identify(req)).permissions.has('read');
    } catch (err) {
      if (err instanceof AuthError) return false;
      throw err;
    }
  }

  onRevoked(req: FastifyRequest, close: () => void): () => void {
    const key = credentialKey(req.identity.credential);
    const set = this.#connections.get(key) ?? new Set();
    this.#connections.set(key, set);
    set.add(close);
    return () => {
      set.delete(close);
      if (set.size === 0 && this.#connections.get(key) === set) this.#connections.delete(key);
    };
  }

  #revoked(key: string): void {
    const set = this.#connections.get(key);
    this.#connections.delete(key);
    for (const close of set ?? []) close();
  }

  #sessionCookie(value: string, maxAgeSeconds: number): string {
    const { sameSite } = this.options.auth();
    const secure = this.options.secureCookies ? '; Secure' : '';
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=${sameSite}; Max-Age=${maxAgeSeconds}${secure}`;
  }

  register(app: FastifyInstance): void {
    const { apiPrefix } = this.options;
    app.decorateRequest('identity', null as unknown as Identity);
    app.addHook('onRequest', async (req) => {
      req.identity = await this.identify(req);
      const path = req.url.split('?')[0]!;
      if (!SAFE_METHODS.has(req.method)) {
        const { credential } = req.identity;
        if (credential.kind === 'session' && path !== '/auth/login') {
          const sent = req.headers[CSRF_HEADER];
          const session = await this.sessions.get(credential.sessionId);
          if (typeof sent !== 'string' || !session || !sameText(sent, session.csrfToken))
            throw new AuthError(
              403,
              `missing or wrong ${CSRF_HEADER} header (the csrfToken of the login answer or of GET /auth/me)`,
            );
        }
      } else if (path === apiPrefix || path.startsWith(`${apiPrefix}/`) || path.startsWith('/badges/')) {
        // Badges show builds' results: reading them is reading the data API.
        this.require(req.identity, 'read', 'read the data API');
      }
    });

    app.post('/auth/login', async (req, reply) => {
      const body = bodyObject(req);
      const { username, password } = body;
      if (typeof username !== 'string' || username === '' || username.length > 200)
        throw new BadAuthRequest('username must be a non-empty string');
      if (typeof password !== 'string' || password.length > 1024)
        throw new BadAuthRequest('password must be a string of at most 1024 characters');
      const wait = this.throttle.retryAfter(username, req.ip);
      if (wait > 0) throw new AuthError(429, `too many failed logins; try again in ${wait} s`, wait);
      const auth = this.options.auth();
      const user = auth.users.get(username);
      const ok = user ? await verifyPassword(password, user.passwordHash) : await verifyNothing(password);
      if (!ok) {
        this.throttle.failed(username, req.ip);
        this.options.log(
          `data API: refused a login as ${JSON.stringify(username.slice(0, 100))} from ${req.ip}`,
        );
        throw new AuthError(401, 'wrong user name or password');
      }
      this.throttle.succeeded(username);
      const session = await this.startSession(req, reply, username);
      const identity = userIdentity(auth, username, { kind: 'session', sessionId: session.id })!;
      return this.#me(identity, session.csrfToken);
    });

    app.post('/auth/logout', async (req, reply) => {
      const { credential } = req.identity;
      if (credential.kind === 'session') await this.#logout(credential.sessionId);
      reply.header('set-cookie', this.#sessionCookie('', 0));
      return { loggedOut: credential.kind === 'session' };
    });

    app.get('/auth/me', async (req) => {
      const { credential } = req.identity;
      const csrf =
        credential.kind === 'session'
          ? (await this.sessions.get(credential.sessionId))?.csrfToken
          : undefined;
      return this.#me(req.identity, csrf);
    });

    app.get('/auth/tokens', async (req) => {
      const user = this.#user(req.identity, 'list API tokens');
      return { tokens: (await this.options.tokens.ofUser(user)).map(tokenView) };
    });

    app.post('/auth/tokens', async (req, reply) => {
      const user = this.#user(req.identity, 'create API tokens');
      if (!this.options.auth().users.has(user))
        throw new AuthError(
          403,
          `API tokens are for the users of www.auth.users; ${user} logged in with OIDC`,
        );
      const { name, roles } = bodyObject(req);
      if (typeof name !== 'string' || name.trim() === '' || name.length > 100)
        throw new BadAuthRequest('name must be a non-empty string of at most 100 characters');
      if (roles !== undefined && (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')))
        throw new BadAuthRequest('roles must be a list of role names');
      const wanted = (roles as string[] | undefined) ?? req.identity.roles;
      const beyond = wanted.filter((r) => !req.identity.roles.includes(r));
      if (beyond.length > 0)
        throw new AuthError(
          403,
          `${user} does not hold the roles ${beyond.join(', ')} and cannot give them to a token`,
        );
      const token = newApiToken();
      const row = await this.options.tokens.add({
        username: user,
        name: name.trim(),
        tokenHash: apiTokenHash(token)!,
        roles: wanted,
      });
      this.options.log(`data API: ${user} created API token ${row.id} (${JSON.stringify(row.name)})`);
      // The only time the token is shown.
      return reply.code(201).send({ ...tokenView(row), token });
    });

    app.delete('/auth/tokens/:id', async (req, reply) => {
      const user = this.#user(req.identity, 'revoke API tokens');
      const raw = (req.params as { id: string }).id;
      const id = /^\d{1,15}$/.test(raw) ? Number(raw) : -1;
      if (!(await this.options.tokens.revoke(user, id)))
        return reply.code(404).send({ error: `${user} has no API token ${raw}` });
      this.#revoked(credentialKey({ kind: 'token', tokenId: id }));
      this.options.log(`data API: ${user} revoked API token ${id}`);
      return reply.code(204).send();
    });
  }

  /** Logs `user` in: a new session and its cookie. `externalRoles` for users the config does not list (OIDC). */
  async startSession(
    req: FastifyRequest,
    reply: FastifyReply,
    user: string,
    externalRoles?: readonly string[],
  ): Promise<Session> {
    // A session id that existed before the login is never the logged-in one.
    if (req.identity.credential.kind === 'session') await this.#logout(req.identity.credential.sessionId);
    const session = await this.sessions.create(user, externalRoles);
    reply.header('set-cookie', this.#sessionCookie(session.id, this.options.auth().sessionSeconds));
    return session;
  }

  async #logout(sessionId: string): Promise<void> {
    await this.sessions.delete(sessionId);
    this.#revoked(credentialKey({ kind: 'session', sessionId }));
  }

  #user(identity: Identity, what: string): string {
    if (identity.user === null) throw new AuthError(401, `log in to ${what}`);
    return identity.user;
  }

  #me(identity: Identity, csrfToken: string | undefined) {
    const { oidc } = this.options.auth();
    return {
      user: identity.user,
      roles: identity.roles,
      permissions: [...identity.permissions],
      ...(csrfToken === undefined ? {} : { csrfToken }),
      // How else one may log in, for the web UI's "Sign in with …" (GET /auth/oidc/login).
      ...(oidc ? { oidc: { name: oidc.name ?? new URL(oidc.issuer).host } } : {}),
    };
  }
}
