// The data API as the `lathe` read commands (builds, show, log) see it: where it is (the
// master directory's `www`, or `--url` for a remote master), GETs with an optional bearer
// token, and realtime events over SSE. Every failure is an ApiClientError that says what
// to do about it.
import { resolve } from 'node:path';
import { loadConfig } from '../config/loader.js';
import { DEFAULT_CONFIG_FILE } from '../master.js';

export class ApiClientError extends Error {
  override readonly name: string = 'ApiClientError';
}

export class WwwNotConfiguredError extends ApiClientError {
  override readonly name = 'WwwNotConfiguredError';
  constructor(readonly configFile: string) {
    super(
      `${configFile} has no www setting, so the master serves no data API: add www: { port: 8010 } and restart it, or pass --url of a master that serves one`,
    );
  }
}

export class ApiUnreachableError extends ApiClientError {
  override readonly name = 'ApiUnreachableError';
  constructor(
    readonly url: string,
    readonly reason: string,
    local: string | undefined,
  ) {
    super(
      `cannot reach the data API at ${url} (${reason})${local ? `: is the master running? (lathe start ${local})` : ''}`,
    );
  }
}

export class ApiHttpError extends ApiClientError {
  override readonly name = 'ApiHttpError';
  constructor(
    readonly url: string,
    readonly status: number,
    readonly detail: string,
  ) {
    super(
      status === 401 || status === 403
        ? `the master refused (${status}): ${detail}${status === 401 ? ' (pass --token)' : ''}`
        : `${url} answered ${status}: ${detail}`,
    );
  }
}

/** Something the user named does not exist (answered 404). */
export class ApiNotFoundError extends ApiClientError {
  override readonly name = 'ApiNotFoundError';
}

export interface ApiTarget {
  /** `http://host:port/api/v2`, without a trailing slash. */
  readonly base: string;
  readonly token?: string;
  /** The master directory it came from, for "start it" advice; undefined with --url. */
  readonly localDir?: string;
}

export interface TargetOptions {
  readonly dir: string;
  readonly config?: string;
  readonly url?: string;
  readonly token?: string;
}

/** Where to connect: `--url`, else the `www` setting of the master directory's config. */
export async function resolveTarget(o: TargetOptions): Promise<ApiTarget> {
  const token = o.token ? { token: o.token } : {};
  if (o.url !== undefined) {
    const url = o.url.replace(/\/+$/, '');
    return { base: url.endsWith('/api/v2') ? url : `${url}/api/v2`, ...token };
  }
  const file = resolve(o.dir, o.config ?? DEFAULT_CONFIG_FILE);
  const { config } = await loadConfig(file);
  if (!config.www) throw new WwwNotConfiguredError(file);
  return {
    base: `http://${connectHost(config.www.host)}:${config.www.port}/api/v2`,
    localDir: o.dir,
    ...token,
  };
}

/** A listening address to connect to: the wildcard addresses mean this machine. */
function connectHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export type ApiResource = Record<string, unknown>;

export interface ApiEvent {
  readonly type: 'event' | 'resync';
  readonly event?: string;
  readonly resource?: ApiResource;
}

export class ApiClient {
  constructor(readonly target: ApiTarget) {}

  #headers(): Record<string, string> {
    return {
      accept: 'application/json',
      ...(this.target.token ? { authorization: `Bearer ${this.target.token}` } : {}),
    };
  }

  async #fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const url = `${this.target.base}${path}`;
    try {
      return await fetch(url, { ...init, headers: this.#headers() });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiUnreachableError(url, cause?.code ?? cause?.message ?? String(err), this.target.localDir);
    }
  }

  /** The resources at `path` (a list; one element for a single resource), or ApiNotFoundError. */
  async list(
    path: string,
    query: Readonly<Record<string, string | readonly string[]>> = {},
  ): Promise<ApiResource[]> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query))
      for (const one of typeof v === 'string' ? [v] : v) params.append(k, one);
    const qs = params.size > 0 ? `?${params}` : '';
    const res = await this.#fetch(`${path}${qs}`);
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.status === 404) throw new ApiNotFoundError(`nothing at ${path}`);
    if (!res.ok)
      throw new ApiHttpError(
        `${this.target.base}${path}${qs}`,
        res.status,
        String(body.error ?? res.statusText),
      );
    const list = Object.values(body).find(Array.isArray);
    if (!list) throw new ApiHttpError(`${this.target.base}${path}`, res.status, 'the answer holds no list');
    return list as ApiResource[];
  }

  /** The one resource at `path`, or ApiNotFoundError saying `what` is missing. */
  async one(
    path: string,
    what: string,
    query: Readonly<Record<string, string | readonly string[]>> = {},
  ): Promise<ApiResource> {
    try {
      const [first] = await this.list(path, query);
      if (first) return first;
    } catch (err) {
      if (!(err instanceof ApiNotFoundError)) throw err;
    }
    throw new ApiNotFoundError(`no ${what}`);
  }

  /**
   * Subscribes to topics over SSE and calls `onEvent` for each event until `signal` aborts.
   * Resolves once the server has answered (so later events reach `onEvent`); the returned
   * promise `ended` settles when the stream ends.
   */
  async subscribe(
    topics: readonly string[],
    onEvent: (e: ApiEvent) => void,
    signal: AbortSignal,
  ): Promise<{ ended: Promise<void> }> {
    const qs = new URLSearchParams(topics.map((t): [string, string] => ['topic', t]));
    const res = await this.#fetch(`/sse?${qs}`, { signal });
    if (!res.ok || !res.body) throw new ApiHttpError(`${this.target.base}/sse`, res.status, res.statusText);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const ended = (async () => {
      let buffered = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffered += value;
          let end = buffered.indexOf('\n\n');
          while (end >= 0) {
            const block = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (data) onEvent(JSON.parse(data) as ApiEvent);
            end = buffered.indexOf('\n\n');
          }
        }
      } catch (err) {
        if (!signal.aborted) throw err;
      }
    })();
    return { ended };
  }
}

/** A builder by name or id: its resource, or ApiNotFoundError. */
export function builderOf(api: ApiClient, builder: string): Promise<ApiResource> {
  return api.one(`/builders/${encodeURIComponent(builder)}`, `builder ${JSON.stringify(builder)}`);
}

/** A builder's build by number. */
export function buildOf(api: ApiClient, builder: ApiResource, number: number): Promise<ApiResource> {
  return api.one(`/builders/${builder.builderid}/builds/${number}`, `build #${number} of ${builder.name}`);
}
