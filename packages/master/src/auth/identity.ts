// Who a request comes from and what they may do: anonymous, a logged-in session, or a bearer
// token. Permissions always come from the current config's roles, so a reconfig that takes
// a role away takes it from existing sessions and tokens too.
import type { Permission, ResolvedAuth } from '../config/www-auth.js';

export type Credential =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'session'; readonly sessionId: string }
  | { readonly kind: 'token'; readonly tokenId: number };

export interface Identity {
  readonly user: string | null;
  readonly roles: readonly string[];
  readonly permissions: ReadonlySet<Permission>;
  readonly credential: Credential;
}

export function anonymousIdentity(auth: ResolvedAuth): Identity {
  return { user: null, roles: [], permissions: auth.anonymous, credential: { kind: 'anonymous' } };
}

/** A user's identity with `roles` (narrowed to those the user still has in the config); undefined if the user is gone. */
export function userIdentity(
  auth: ResolvedAuth,
  user: string,
  credential: Credential,
  roles?: readonly string[],
): Identity | undefined {
  const configured = auth.users.get(user);
  if (!configured) return undefined;
  const held = roles ? roles.filter((r) => configured.roles.includes(r)) : configured.roles;
  return { user, roles: held, permissions: permissionsOf(auth, held), credential };
}

/** A user the config does not list (logged in with OIDC): `roles` as the provider gave them, narrowed to configured roles. */
export function externalIdentity(
  auth: ResolvedAuth,
  user: string,
  roles: readonly string[],
  credential: Credential,
): Identity {
  const configured = auth.users.get(user)?.roles ?? [];
  const held = [...new Set([...roles, ...configured])].filter((r) => auth.roles.has(r));
  return { user, roles: held, permissions: permissionsOf(auth, held), credential };
}

function permissionsOf(auth: ResolvedAuth, roles: readonly string[]): Set<Permission> {
  const permissions = new Set<Permission>(auth.anonymous);
  for (const r of roles) for (const p of auth.roles.get(r) ?? []) permissions.add(p);
  return permissions;
}

/** The same credential, so realtime connections can be closed when it is revoked. */
export function credentialKey(c: Credential): string {
  switch (c.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'session':
      return `session:${c.sessionId}`;
    case 'token':
      return `token:${c.tokenId}`;
  }
}
