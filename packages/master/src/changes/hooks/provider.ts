// What each webhook provider module implements: how a request is authenticated, and how
// its payload becomes changes. Providers never store anything; the plugin does.
import type { IncomingHttpHeaders } from 'node:http';
import type { ChangeInput } from '../change-source.js';

export interface HookRequest {
  readonly headers: IncomingHttpHeaders;
  /** The body exactly as sent (empty when there is none): signatures are over these bytes. */
  readonly body: Buffer;
}

/** The settings of one hook, its secret already resolved. */
export interface HookSettings {
  readonly secret: string;
  /** Stored as the changes' codebase; default ''. */
  readonly codebase: string;
}

export interface HookProvider {
  /** The last segment of `/change_hook/<name>`. */
  readonly name: string;
  /** Throws HookUnauthenticatedError / HookForbiddenError unless the request is genuine. */
  authenticate(req: HookRequest, secret: string): void;
  /** The changes the (authenticated) request reports; [] for events that build nothing. */
  changes(req: HookRequest, settings: HookSettings): ChangeInput[];
}

export function header(req: HookRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
