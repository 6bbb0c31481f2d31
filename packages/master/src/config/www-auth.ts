// The `www.auth` setting: who may read the data API and act through it. Anonymous visitors
// read and do nothing else unless told otherwise; users log in with a password (stored as a
// scrypt hash) or a bearer token, and their roles give them permissions.
//
//   www: { auth: {
//     anonymous: ['read'],                       // [] : anonymous may not even read
//     roles: { dev: ['read', 'force', 'stop', 'rebuild', 'quarantine'], ops: ['read', 'workers'] },
//     users: { alice: { password: 'scrypt$16384$8$1$…', roles: ['dev', 'ops'] } },
//   } }
import type { OidcSettings } from '../auth/oidc.js';
import { passwordHashProblem } from '../auth/password.js';

export const PERMISSIONS = ['read', 'force', 'stop', 'rebuild', 'workers', 'quarantine'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The role every config has unless it defines its own `admin`: every permission. */
export const ADMIN_ROLE = 'admin';

export interface WwwAuthConfig {
  /** What a visitor who has not logged in may do; default ['read']. */
  readonly anonymous?: readonly Permission[];
  /** Role name → permissions; `admin` (every permission) unless redefined. */
  readonly roles?: Readonly<Record<string, readonly Permission[]>>;
  /** User name → scrypt password hash (`lathe hash-password`) and roles. */
  readonly users?: Readonly<
    Record<string, { readonly password: string; readonly roles?: readonly string[] }>
  >;
  /** How long a login session lasts; default 24 hours. */
  readonly sessionHours?: number;
  /** Failed logins allowed per user name and per client address within the window; default 5 in 900 s. */
  readonly loginThrottle?: { readonly attempts?: number; readonly windowSeconds?: number };
  /** The session cookie's SameSite; default 'Lax'. */
  readonly sameSite?: 'Lax' | 'Strict';
  /** Login with an OpenID Connect provider (GET /auth/oidc/login). */
  readonly oidc?: {
    readonly issuer: string;
    readonly clientId: string;
    readonly clientSecret: string;
    /** The provider's name on the web UI's "Sign in with …" button; default the issuer's host. */
    readonly name?: string;
    /** Default 'openid profile email'. */
    readonly scope?: string;
    /** The claim naming the user; default 'preferred_username'. */
    readonly usernameClaim?: string;
    /** A claim listing role names, e.g. 'groups'. */
    readonly rolesClaim?: string;
    /** Roles every user who logs in this way holds; default none. */
    readonly defaultRoles?: readonly string[];
  };
}

export interface AuthUser {
  readonly passwordHash: string;
  readonly roles: readonly string[];
}

export interface ResolvedAuth {
  readonly anonymous: ReadonlySet<Permission>;
  readonly roles: ReadonlyMap<string, ReadonlySet<Permission>>;
  readonly users: ReadonlyMap<string, AuthUser>;
  readonly sessionSeconds: number;
  readonly loginThrottle: { readonly attempts: number; readonly windowSeconds: number };
  readonly sameSite: 'Lax' | 'Strict';
  readonly oidc?: OidcSettings;
}

const KNOWN = new Set(['anonymous', 'roles', 'users', 'sessionHours', 'loginThrottle', 'sameSite', 'oidc']);
const KNOWN_OIDC = new Set([
  'issuer',
  'clientId',
  'clientSecret',
  'name',
  'scope',
  'usernameClaim',
  'rolesClaim',
  'defaultRoles',
]);

function resolveOidc(
  raw: unknown,
  roles: ReadonlyMap<string, unknown>,
  issue: (key: string, message: string) => void,
): OidcSettings | undefined {
  if (!isObject(raw)) {
    issue('www.auth.oidc', 'must be { issuer, clientId, clientSecret, … }');
    return undefined;
  }
  for (const key of Object.keys(raw))
    if (!KNOWN_OIDC.has(key))
      issue(`www.auth.oidc.${key}`, `unknown setting (known: ${[...KNOWN_OIDC].join(', ')})`);
  let ok = true;
  for (const key of ['issuer', 'clientId', 'clientSecret'] as const)
    if (typeof raw[key] !== 'string' || raw[key] === '') {
      issue(`www.auth.oidc.${key}`, 'must be a non-empty string');
      ok = false;
    }
  if (typeof raw.issuer === 'string' && !/^https?:\/\/[^\s]+$/.test(raw.issuer)) {
    issue('www.auth.oidc.issuer', 'must be the provider’s http(s) URL');
    ok = false;
  }
  for (const key of ['name', 'scope', 'usernameClaim', 'rolesClaim'] as const)
    if (raw[key] !== undefined && (typeof raw[key] !== 'string' || raw[key] === '')) {
      issue(`www.auth.oidc.${key}`, 'must be a non-empty string');
      ok = false;
    }
  const defaultRoles = raw.defaultRoles ?? [];
  if (!Array.isArray(defaultRoles) || !defaultRoles.every((r) => typeof r === 'string' && roles.has(r))) {
    issue(
      'www.auth.oidc.defaultRoles',
      `must be a list of configured roles (${[...roles.keys()].join(', ')})`,
    );
    ok = false;
  }
  if (!ok) return undefined;
  return {
    issuer: raw.issuer as string,
    clientId: raw.clientId as string,
    clientSecret: raw.clientSecret as string,
    name: (raw.name as string | undefined) ?? new URL(raw.issuer as string).host,
    scope: (raw.scope as string | undefined) ?? 'openid profile email',
    usernameClaim: (raw.usernameClaim as string | undefined) ?? 'preferred_username',
    ...(raw.rolesClaim === undefined ? {} : { rolesClaim: raw.rolesClaim as string }),
    defaultRoles: defaultRoles as string[],
  };
}

export const DEFAULT_AUTH: ResolvedAuth = Object.freeze({
  anonymous: new Set<Permission>(['read']),
  roles: new Map([[ADMIN_ROLE, new Set<Permission>(PERMISSIONS)]]),
  users: new Map(),
  sessionSeconds: 24 * 3600,
  loginThrottle: { attempts: 5, windowSeconds: 900 },
  sameSite: 'Lax',
});

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function permissions(
  v: unknown,
  key: string,
  issue: (key: string, message: string) => void,
): Set<Permission> {
  if (!Array.isArray(v) || !v.every((p) => (PERMISSIONS as readonly unknown[]).includes(p))) {
    issue(key, `must be a list of permissions (${PERMISSIONS.join(', ')})`);
    return new Set();
  }
  return new Set(v as Permission[]);
}

function positive(
  v: unknown,
  fallback: number,
  key: string,
  issue: (key: string, message: string) => void,
): number {
  if (v === undefined) return fallback;
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  issue(key, 'must be a positive number');
  return fallback;
}

/** The resolved setting (defaults without `auth`); problems go to `issue(key, message)`. */
export function resolveWwwAuth(raw: unknown, issue: (key: string, message: string) => void): ResolvedAuth {
  if (raw === undefined) return DEFAULT_AUTH;
  if (!isObject(raw)) {
    issue('www.auth', 'must be an object such as { users: { … }, roles: { … } }');
    return DEFAULT_AUTH;
  }
  for (const key of Object.keys(raw))
    if (!KNOWN.has(key)) issue(`www.auth.${key}`, `unknown setting (known: ${[...KNOWN].join(', ')})`);
  const anonymous =
    raw.anonymous === undefined
      ? DEFAULT_AUTH.anonymous
      : permissions(raw.anonymous, 'www.auth.anonymous', issue);
  const roles = new Map(DEFAULT_AUTH.roles);
  if (raw.roles !== undefined) {
    if (!isObject(raw.roles)) issue('www.auth.roles', 'must map role names to lists of permissions');
    else
      for (const [name, perms] of Object.entries(raw.roles))
        roles.set(name, permissions(perms, `www.auth.roles.${name}`, issue));
  }
  const users = new Map<string, AuthUser>();
  if (raw.users !== undefined) {
    if (!isObject(raw.users)) issue('www.auth.users', 'must map user names to { password, roles }');
    else
      for (const [name, u] of Object.entries(raw.users)) {
        const key = `www.auth.users.${name}`;
        if (!isObject(u) || typeof u.password !== 'string') {
          issue(key, 'must be { password: <scrypt hash>, roles: [ … ] }');
          continue;
        }
        // The message never repeats the value: it may be a password pasted by mistake.
        const problem = passwordHashProblem(u.password);
        if (problem) issue(`${key}.password`, problem);
        const userRoles = u.roles ?? [];
        if (!Array.isArray(userRoles) || !userRoles.every((r) => typeof r === 'string'))
          issue(`${key}.roles`, 'must be a list of role names');
        else
          for (const r of userRoles)
            if (!roles.has(r))
              issue(
                `${key}.roles`,
                `no role named ${JSON.stringify(r)} (roles: ${[...roles.keys()].join(', ')})`,
              );
        users.set(name, {
          passwordHash: u.password,
          roles: Array.isArray(userRoles) ? (userRoles as string[]) : [],
        });
      }
  }
  const throttle = isObject(raw.loginThrottle) ? raw.loginThrottle : {};
  if (raw.loginThrottle !== undefined && !isObject(raw.loginThrottle))
    issue('www.auth.loginThrottle', 'must be { attempts, windowSeconds }');
  if (raw.sameSite !== undefined && raw.sameSite !== 'Lax' && raw.sameSite !== 'Strict')
    issue('www.auth.sameSite', "must be 'Lax' or 'Strict'");
  const oidc = raw.oidc === undefined ? undefined : resolveOidc(raw.oidc, roles, issue);
  return {
    ...(oidc ? { oidc } : {}),
    anonymous,
    roles,
    users,
    sessionSeconds: positive(raw.sessionHours, 24, 'www.auth.sessionHours', issue) * 3600,
    loginThrottle: {
      attempts: Math.floor(positive(throttle.attempts, 5, 'www.auth.loginThrottle.attempts', issue)),
      windowSeconds: positive(throttle.windowSeconds, 900, 'www.auth.loginThrottle.windowSeconds', issue),
    },
    sameSite: raw.sameSite === 'Strict' ? 'Strict' : 'Lax',
  };
}
