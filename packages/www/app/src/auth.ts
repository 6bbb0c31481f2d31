// Who is looking, what they may do, and actions sent as the data API wants them: JSON-RPC
// POSTs, with the session's CSRF token (packages/master/API.md, "Authentication").
import { useEffect, useState } from 'preact/hooks';
import { ApiError, apiUrl } from './api';
import { currentPath } from './router';

export type Permission = 'read' | 'force' | 'stop' | 'rebuild' | 'workers' | 'quarantine';

export interface Me {
  readonly user: string | null;
  readonly permissions: readonly Permission[];
  readonly csrfToken?: string;
  /** Present when the master offers OIDC login: the provider's name. */
  readonly oidc?: { readonly name: string };
}

const ANONYMOUS: Me = { user: null, permissions: ['read'] };
let current: Me = ANONYMOUS;
const listeners = new Set<(me: Me) => void>();

function set(me: Me): void {
  current = me;
  for (const l of listeners) l(me);
}

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(current.csrfToken ? { 'x-csrf-token': current.csrfToken } : {}),
    },
    body: JSON.stringify(body),
  });
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const error = answer.error as { message?: string; data?: Record<string, unknown> } | string | undefined;
    if (typeof error === 'string') throw new ApiError(res.status, error);
    throw new ApiError(res.status, error?.message ?? res.statusText, error?.data);
  }
  return answer;
}

export async function refreshMe(): Promise<void> {
  const res = await fetch(new URL('auth/me', document.baseURI));
  set(res.ok ? ((await res.json()) as Me) : ANONYMOUS);
}

export async function login(username: string, password: string): Promise<void> {
  set((await post(new URL('auth/login', document.baseURI).href, { username, password })) as unknown as Me);
}

/**
 * Where the OIDC login starts: the master sends the browser to the provider, and after the
 * login back to this page (`then`, relative to the app's base).
 */
export function oidcLoginUrl(): string {
  const url = new URL('auth/oidc/login', document.baseURI);
  url.searchParams.set('then', currentPath().slice(1) + location.search + location.hash);
  return url.href;
}

export async function logout(): Promise<void> {
  await post(new URL('auth/logout', document.baseURI).href, {});
  set(ANONYMOUS);
  await refreshMe();
}

export function useMe(): Me {
  const [me, setMe] = useState(current);
  useEffect(() => {
    listeners.add(setMe);
    return () => {
      listeners.delete(setMe);
    };
  }, []);
  return me;
}

export function can(me: Me, permission: Permission): boolean {
  return me.permissions.includes(permission);
}

let nextId = 1;

/** Runs an action on a resource (`force` on `/builders/3`, `stop` on `/builds/42`, …). */
export async function act(
  path: string,
  method: string,
  params: Record<string, unknown> = {},
): Promise<unknown> {
  const answer = await post(apiUrl(path), { jsonrpc: '2.0', method, params, id: nextId++ });
  return answer.result;
}
