// The `www` setting: where the master serves its web UI and data API. As in
// Buildbot, a master without `www` serves no HTTP; `www: {}` serves on port 8010.
import {
  type ChangeHooksConfig,
  type ResolvedChangeHooks,
  resolveChangeHooks,
} from '../changes/hooks/config.js';
import { checkBuildbotURL, parsePort } from './validate.js';
import { type ResolvedAuth, resolveWwwAuth, type WwwAuthConfig } from './www-auth.js';

export const DEFAULT_WWW_PORT = 8010;
/** Anonymous visitors may read by default (`www.auth`), so the API listens on loopback unless told otherwise. */
export const DEFAULT_WWW_HOST = '127.0.0.1';

export interface WwwConfig {
  /** Port, or `tcp:<port>[:interface=<address>]`; default 8010. */
  readonly port?: number | string;
  /** Address to listen on; default 127.0.0.1 (loopback only). */
  readonly host?: string;
  /** The URL people reach it at, for messages and links; default the config's buildbotURL. */
  readonly baseURL?: string;
  /** Users, roles and what anonymous visitors may do (config/www-auth.ts); default: anonymous reads. */
  readonly auth?: WwwAuthConfig;
  /** Webhooks served under /change_hook/<provider>, each with its secret. */
  readonly changeHooks?: ChangeHooksConfig;
}

export interface ResolvedWww {
  readonly port: number;
  readonly host: string;
  readonly baseURL: string;
  readonly auth: ResolvedAuth;
  /** Only when the config has changeHooks. */
  readonly changeHooks?: ResolvedChangeHooks;
}

const KNOWN_WWW = new Set(['port', 'host', 'baseURL', 'auth', 'changeHooks']);

/** The resolved setting, or null without `www`; problems go to `issue(subkey, message)`. */
export function resolveWww(
  raw: unknown,
  buildbotURL: string,
  issue: (key: string, message: string) => void,
): ResolvedWww | null {
  if (raw === undefined) return null;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    issue('www', 'must be an object such as { port: 8010 }');
    return null;
  }
  const www = raw as Record<string, unknown>;
  for (const key of Object.keys(www))
    if (!KNOWN_WWW.has(key))
      issue(`www.${key}`, 'unknown setting (known: port, host, baseURL, auth, changeHooks)');
  const port = parsePort(www.port ?? DEFAULT_WWW_PORT);
  if (typeof port === 'string') issue('www.port', port);
  if (www.host !== undefined && (typeof www.host !== 'string' || www.host === ''))
    issue('www.host', 'must be an address such as 127.0.0.1 or 0.0.0.0');
  if (www.baseURL !== undefined) {
    const problem =
      typeof www.baseURL === 'string'
        ? checkBuildbotURL(www.baseURL)
        : 'must be an absolute http(s) URL ending with /';
    if (problem) issue('www.baseURL', problem);
  }
  const resolvedPort = typeof port === 'string' ? { port: DEFAULT_WWW_PORT, host: null } : port;
  if (resolvedPort.host !== null && www.host !== undefined && www.host !== resolvedPort.host)
    issue('www.host', `conflicts with the interface in www.port (${resolvedPort.host})`);
  return {
    port: resolvedPort.port,
    host: (www.host as string | undefined) ?? resolvedPort.host ?? DEFAULT_WWW_HOST,
    baseURL: (www.baseURL as string | undefined) ?? buildbotURL,
    auth: resolveWwwAuth(www.auth, issue),
    ...(www.changeHooks === undefined ? {} : { changeHooks: resolveChangeHooks(www.changeHooks, issue) }),
  };
}
