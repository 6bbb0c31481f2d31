// Reads and live updates through the master's data API (packages/master/API.md). Every
// URL is relative to the page's <base href>, which the master sets from `www.baseURL`, so
// the app works at the root and behind a reverse proxy under a prefix.

import { startEarlyRead, takeEarlyRead } from './early-reads';

export type Resource = Record<string, unknown>;

export interface Page<T> {
  readonly items: T[];
  readonly next?: string;
  readonly total?: number;
}

/**
 * An answer that was not 2xx, with the API's own message (which names the bad field) and,
 * for a refused action, the JSON-RPC error's `data` (a force's problems by parameter).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly data?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function apiUrl(path: string, params?: Record<string, string | number | readonly string[]>): string {
  const url = new URL(`api/v2${path}`, document.baseURI);
  // Built whole and set once: each searchParams.append re-serialises the query, which for
  // a matrix's hundred builderid__in values is quadratic.
  const query = new URLSearchParams(url.search);
  for (const [k, v] of Object.entries(params ?? {}))
    for (const one of Array.isArray(v) ? v : [v]) query.append(k, String(one));
  url.search = query.toString();
  return url.href;
}

/**
 * Starts the read a page about to be shown will make of `path` (the same `params`, so the
 * same URL): its `list` or `one` of it takes the answer instead of asking again.
 */
export function readAhead(path: string, params?: Record<string, string | number | readonly string[]>): void {
  startEarlyRead(apiUrl(path, params));
}

async function getJson(
  path: string,
  params?: Record<string, string | number | readonly string[]>,
  signal?: AbortSignal,
) {
  const url = apiUrl(path, params);
  const res = await (takeEarlyRead(url) ??
    fetch(url, { headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) }));
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new ApiError(res.status, String(body.error ?? res.statusText));
  return body;
}

/** A collection page: `/builders/3/builds` → the `builds` list and its paging. */
export async function list<T = Resource>(
  path: string,
  params?: Record<string, string | number | readonly string[]>,
): Promise<Page<T>> {
  const body = await getJson(path, params);
  const items = Object.values(body).find(Array.isArray) as T[] | undefined;
  const meta = (body.meta ?? {}) as { next?: string; total?: number };
  return {
    items: items ?? [],
    ...(meta.next ? { next: meta.next } : {}),
    ...(meta.total !== undefined ? { total: meta.total } : {}),
  };
}

/** One resource, or null when it does not exist. */
export async function one<T = Resource>(path: string): Promise<T | null> {
  try {
    return (await list<T>(path)).items[0] ?? null;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

export interface LogLines {
  readonly firstline: number;
  readonly lines: string[];
  readonly total: number;
}

/** Lines [offset, offset+limit) of a log as stored (stdio lines keep their stream letter). */
export async function logLines(logid: number, offset: number, limit: number): Promise<LogLines> {
  const body = await getJson(`/logs/${logid}/contents`, { offset, limit });
  const chunks = body.logchunks as { firstline: number; content: string }[];
  const lines: string[] = [];
  for (const c of chunks) {
    const text = c.content.endsWith('\n') ? c.content.slice(0, -1) : c.content;
    if (text !== '' || c.content !== '') lines.push(...text.split('\n'));
  }
  return { firstline: chunks[0]?.firstline ?? offset, lines, total: (body.meta as { total: number }).total };
}

export type SectionMarkerKind = 'group' | 'endgroup' | 'folded' | 'unfolded';

export interface SectionMarker {
  readonly line: number;
  readonly kind: SectionMarkerKind;
  readonly title: string;
}

/**
 * A log's section markers as the server recorded them while the log was written;
 * `recorded` false for a log written before it did (then only a search finds them).
 */
export async function logSectionMarkers(
  logid: number,
  signal?: AbortSignal,
): Promise<{ recorded: boolean; markers: SectionMarker[] }> {
  const body = await getJson(`/logs/${logid}/sections`, undefined, signal);
  return {
    recorded: Boolean((body.meta as { recorded?: boolean }).recorded),
    markers: body.markers as SectionMarker[],
  };
}

/** Numbers of the lines matching `q`, found by the server (the log is never downloaded). */
export async function searchLog(
  logid: number,
  q: string,
  options: { regex?: boolean; icase?: boolean; signal?: AbortSignal } = {},
): Promise<{ matches: number[]; truncated: boolean }> {
  const body = await getJson(
    `/logs/${logid}/search`,
    {
      q,
      ...(options.regex ? { regex: 'true' } : {}),
      ...(options.icase ? { icase: 'true' } : {}),
    },
    options.signal,
  );
  return {
    matches: body.matches as number[],
    truncated: Boolean((body.meta as { truncated?: boolean }).truncated),
  };
}

export interface LiveEvent {
  readonly type: 'event';
  readonly topic: string;
  readonly event: string;
  readonly resourceType: string;
  readonly resource: Resource;
}
/** History needed to resume is gone: the view must read again what it shows. */
export interface LiveResync {
  readonly type: 'resync';
}
export type LiveMessage = LiveEvent | LiveResync;
type Handler = (m: LiveMessage) => void;

/**
 * One WebSocket for the whole page. Views subscribe to the topics they show and nothing
 * else; after a dropped connection each topic resumes from the last position it saw, so a
 * view either gets every event it missed or a resync telling it to read again.
 */
class Live {
  #socket: WebSocket | null = null;
  #open = false;
  readonly #handlers = new Map<string, Set<Handler>>();
  readonly #positions = new Map<string, string>();
  #retry = 500;

  subscribe(topic: string, handler: Handler): () => void {
    let set = this.#handlers.get(topic);
    if (!set) {
      set = new Set();
      this.#handlers.set(topic, set);
      this.#send({ cmd: 'subscribe', topic });
    }
    set.add(handler);
    this.#connect();
    return () => {
      const handlers = this.#handlers.get(topic);
      if (!handlers) return;
      handlers.delete(handler);
      if (handlers.size > 0) return;
      this.#handlers.delete(topic);
      this.#positions.delete(topic);
      this.#send({ cmd: 'unsubscribe', topic });
    };
  }

  #send(cmd: Record<string, unknown>): void {
    if (this.#open) this.#socket?.send(JSON.stringify(cmd));
  }

  #connect(): void {
    if (this.#socket) return;
    const url = new URL('api/v2/ws', document.baseURI);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    this.#socket = socket;
    socket.onopen = () => {
      this.#open = true;
      this.#retry = 500;
      for (const topic of this.#handlers.keys()) {
        const after = this.#positions.get(topic);
        socket.send(JSON.stringify({ cmd: 'subscribe', topic, ...(after ? { after } : {}) }));
      }
    };
    socket.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as Record<string, unknown>;
      const topic = (m.subscription ?? m.topic) as string | undefined;
      if (!topic) return;
      if (m.type === 'subscribed' && !this.#positions.has(topic))
        this.#positions.set(topic, String(m.position));
      if (m.type !== 'event' && m.type !== 'resync') return;
      this.#positions.set(topic, String(m.position));
      const msg: LiveMessage = m.type === 'resync' ? { type: 'resync' } : (m as unknown as LiveEvent);
      for (const h of this.#handlers.get(topic) ?? []) h(msg);
    };
    socket.onclose = () => {
      this.#socket = null;
      this.#open = false;
      if (this.#handlers.size === 0) return;
      setTimeout(() => this.#connect(), this.#retry);
      this.#retry = Math.min(this.#retry * 2, 10_000);
    };
  }
}

export const live = new Live();
