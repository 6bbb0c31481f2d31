// OIDC login routes: GET /auth/oidc/login sends the browser to the provider; the provider
// sends it back to GET /auth/oidc/callback, which checks the answer (auth/oidc.ts) and
// starts the same session a password login does, and returns to the page the login began
// on (`?then=`, a page under the base URL). The login's state, nonce and PKCE verifier stay
// in the master's memory for 10 minutes, bound to the browser by a cookie.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { OidcClient, OidcError, type OidcSettings, oidcUser, type PendingLogin } from '../auth/oidc.js';
import type { ResolvedAuth } from '../config/www-auth.js';
import { cookie, type HttpAuth } from './auth.js';

const STATE_COOKIE = 'lathe_oidc_state';
const PENDING_SECONDS = 600;
const MAX_PENDING = 1000;

export interface OidcRoutesOptions {
  readonly auth: () => ResolvedAuth;
  readonly httpAuth: HttpAuth;
  /** The URL people reach the master at (www.baseURL), ending with `/`. */
  readonly baseURL: () => string;
  readonly secureCookies: boolean;
  readonly log: (line: string) => void;
}

export function registerOidc(app: FastifyInstance, options: OidcRoutesOptions): void {
  const pending = new Map<string, PendingLogin & { readonly returnTo: string; readonly expiresAt: number }>();
  let client: { settings: OidcSettings; redirectUri: string; client: OidcClient } | undefined;
  const clientFor = (settings: OidcSettings): OidcClient => {
    const redirectUri = new URL('auth/oidc/callback', options.baseURL()).href;
    // A reconfig brings new settings: a new client (and discovery).
    if (client?.settings !== settings || client.redirectUri !== redirectUri)
      client = { settings, redirectUri, client: new OidcClient(settings, redirectUri) };
    return client.client;
  };
  // The path the browser sees: behind a reverse proxy, under the base URL's path.
  const stateCookie = (value: string, maxAge: number) =>
    `${STATE_COOKIE}=${value}; Path=${new URL('auth/oidc', options.baseURL()).pathname}; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${options.secureCookies ? '; Secure' : ''}`;
  const refuse = (reply: FastifyReply, status: number, message: string) =>
    reply.code(status).header('set-cookie', stateCookie('', 0)).send({ error: message });

  app.get('/auth/oidc/login', async (req, reply) => {
    const settings = options.auth().oidc;
    if (!settings) return reply.code(404).send({ error: 'OIDC login is not configured (www.auth.oidc)' });
    const now = Date.now();
    for (const [state, p] of pending)
      if (p.expiresAt <= now || pending.size >= MAX_PENDING) pending.delete(state);
    const { url, pending: login } = await clientFor(settings).start();
    const returnTo = pageUnderBase((req.query as Record<string, unknown>).then, options.baseURL());
    pending.set(login.state, { ...login, returnTo, expiresAt: now + PENDING_SECONDS * 1000 });
    return reply
      .code(302)
      .header('set-cookie', stateCookie(login.state, PENDING_SECONDS))
      .header('location', url)
      .send();
  });

  app.get('/auth/oidc/callback', async (req, reply) => {
    const settings = options.auth().oidc;
    if (!settings) return reply.code(404).send({ error: 'OIDC login is not configured (www.auth.oidc)' });
    const q = req.query as Record<string, string | undefined>;
    const login = q.state === undefined ? undefined : pending.get(q.state);
    // The state must be this browser's (its cookie) and still pending: one use only.
    if (!login || cookie(req, STATE_COOKIE) !== q.state || login.expiresAt <= Date.now())
      return refuse(reply, 400, 'unknown, expired or foreign login state: start again at /auth/oidc/login');
    pending.delete(login.state);
    if (q.error !== undefined) return refuse(reply, 401, `the OpenID provider refused the login: ${q.error}`);
    if (q.iss !== undefined && q.iss !== settings.issuer)
      return refuse(reply, 400, 'the answer names another issuer');
    if (typeof q.code !== 'string' || q.code === '') return refuse(reply, 400, 'the provider sent no code');
    try {
      const claims = await clientFor(settings).finish(q.code, login);
      const auth = options.auth();
      const { user, roles } = oidcUser(settings, claims, new Set(auth.roles.keys()));
      await options.httpAuth.startSession(req, reply, user, roles);
      options.log(`data API: ${user} logged in with OIDC (roles: ${roles.join(', ') || 'none'})`);
      // Fastify appends a second set-cookie.
      reply.header('set-cookie', stateCookie('', 0));
      return reply.code(302).header('location', login.returnTo).send();
    } catch (err) {
      if (!(err instanceof OidcError)) throw err;
      options.log(`data API: an OIDC login failed: ${err.message}`);
      return refuse(reply, 401, err.message);
    }
  });
}

/**
 * The page to return to after the login: `then` (an app page relative to the base URL, as
 * the web UI sends it) when it resolves under the base URL, else the base URL itself, so a
 * crafted login link cannot send the browser elsewhere.
 */
export function pageUnderBase(then: unknown, baseURL: string): string {
  if (typeof then !== 'string' || then === '' || then.length > 2000) return baseURL;
  let url: URL;
  try {
    url = new URL(then, baseURL);
  } catch {
    return baseURL;
  }
  const base = new URL(baseURL);
  return url.origin === base.origin && url.pathname.startsWith(base.pathname) ? url.href : baseURL;
}
