// The HTTP face of the data API (Fastify): REST under /api/v2, compressed JSON, ETags on
// finished resources, log contents/raw/search, the OpenAPI document, and realtime
// (realtime.ts). Every REST read goes through DataApi.get, so HTTP and in-process reads
// answer the same.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import compress from '@fastify/compress';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ActionContext } from '../api/actions/index.js';
import type { DataApi } from '../api/data-api.js';
import { contentRange, logContents, logSections, requireLog } from '../api/log-content.js';
import { searchLog } from '../api/log-search.js';
import type { MessageQueue } from '../api/mq/queue.js';
import { QueryError } from '../api/query.js';
import { DEFAULT_AUTH, type ResolvedAuth } from '../config/www-auth.js';
import { registerActions } from './actions.js';
import { HttpAuth } from './auth.js';
import { registerBadges } from './badges.js';
import { httpError } from './errors.js';
import { registerOidc } from './oidc.js';
import { openApiDocument } from './openapi.js';
import { registerRealtime } from './realtime.js';
import { registerWebApp, type WebAppOptions } from './webapp.js';

export const API_PREFIX = '/api/v2';

export interface ApiAppOptions {
  readonly api: DataApi;
  readonly queue: MessageQueue;
  /** Where unexpected failures (answered 500) are reported; default stderr. */
  readonly log?: (line: string) => void;
  /** Seconds between SSE keep-alive comments; default 25. */
  readonly sseHeartbeatSeconds?: number;
  /** Serve the web UI too, under this base URL's path (see webapp.ts). */
  readonly webApp?: WebAppOptions;
  /** The current `www.auth`; default: anonymous reads, nobody acts. */
  readonly auth?: () => ResolvedAuth;
  /** Mark the session cookie Secure (the base URL is https). */
  readonly secureCookies?: boolean;
  /** The URL people reach the master at (www.baseURL): OIDC's redirect URI is under it. */
  readonly baseURL?: () => string;
  /** What actions act on; absent, actions answer 503. */
  readonly actions?: ActionContext;
}

type Query = Readonly<Record<string, string | undefined>>;

function searchParams(req: FastifyRequest): URLSearchParams {
  const q = req.url.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1));
}

/** Sends `body` as JSON; with an ETag (and 304 when the client has it) if `cacheable`. */
function sendJson(req: FastifyRequest, reply: FastifyReply, body: unknown, cacheable: boolean): FastifyReply {
  const text = JSON.stringify(body);
  reply.type('application/json; charset=utf-8');
  if (cacheable) {
    const etag = `"${createHash('sha1').update(text).digest('base64url')}"`;
    reply.header('etag', etag);
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
  }
  return reply.send(text);
}

function logid(req: FastifyRequest): number {
  const raw = (req.params as { logid: string }).logid;
  if (!/^\d{1,15}$/.test(raw))
    throw new QueryError('logid', `log id must be an integer, not ${JSON.stringify(raw)}`);
  return Number(raw);
}

export async function buildApiApp(options: ApiAppOptions): Promise<FastifyInstance> {
  const { api } = options;
  // Realtime connections stay open; closing the server must end them, not wait for them.
  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(compress, { global: true, encodings: ['br', 'gzip'] });
  await app.register(websocket);

  const log = options.log ?? ((line: string) => console.error(line));
  app.setErrorHandler((err, req, reply) => {
    const mapped = httpError(err);
    if (mapped)
      return reply
        .code(mapped.status)
        .headers(mapped.headers ?? {})
        .send(mapped.body);
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500)
      log(`data API: ${req.method} ${req.url} failed: ${(err as Error).stack ?? String(err)}`);
    return reply.code(status).send({ error: status < 500 ? (err as Error).message : 'internal error' });
  });

  // First: its hook identifies every request and refuses reads to those who may not read.
  const auth = new HttpAuth({
    auth: options.auth ?? (() => DEFAULT_AUTH),
    tokens: api.data.apiTokens,
    sessions: api.data.sessions,
    secureCookies: options.secureCookies ?? false,
    apiPrefix: API_PREFIX,
    log,
  });
  auth.register(app);
  if (options.baseURL)
    registerOidc(app, {
      auth: options.auth ?? (() => DEFAULT_AUTH),
      httpAuth: auth,
      baseURL: options.baseURL,
      secureCookies: options.secureCookies ?? false,
      log,
    });
  registerActions(app, {
    api,
    auth,
    apiPrefix: API_PREFIX,
    log,
    ...(options.actions ? { context: options.actions } : {}),
  });

  const document = openApiDocument(api);
  app.get(`${API_PREFIX}/openapi.json`, (_req, reply) => sendJson(_req, reply, document, false));

  app.get(`${API_PREFIX}/logs/:logid/contents`, async (req, reply) => {
    const row = await requireLog(api.data, logid(req));
    const body = await logContents(api.data, row, contentRange(req.query as Query));
    // A finished log no longer changes.
    return sendJson(req, reply, body, row.complete);
  });

  app.get(`${API_PREFIX}/logs/:logid/raw`, async (req, reply) => {
    const log = await requireLog(api.data, logid(req));
    reply
      .type('text/plain; charset=utf-8')
      .header('content-disposition', `attachment; filename="log-${log.id}-${log.slug}.txt"`);
    return reply.send(Readable.from(api.data.logs.raw(log.id)));
  });

  app.get(`${API_PREFIX}/logs/:logid/sections`, async (req, reply) => {
    const row = await requireLog(api.data, logid(req));
    const [param] = Object.keys(req.query as Query);
    if (param !== undefined)
      throw new QueryError(param, `unknown query parameter ${JSON.stringify(param)} (/sections takes none)`);
    const body = await logSections(api.data, row);
    return sendJson(req, reply, body, row.complete);
  });

  app.get(`${API_PREFIX}/logs/:logid/search`, async (req, reply) => {
    const id = logid(req);
    await requireLog(api.data, id);
    const q = req.query as Query;
    for (const param of Object.keys(q))
      if (!['q', 'regex', 'icase', 'limit'].includes(param))
        throw new QueryError(
          param,
          `unknown query parameter ${JSON.stringify(param)} (q, regex, icase, limit)`,
        );
    if (q.q === undefined) throw new QueryError('q', 'q (the text or pattern to find) is required');
    const limit = q.limit === undefined ? 1000 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000)
      throw new QueryError('limit', 'limit must be an integer in 1..100000');
    // A reader who left (the log viewer's section search when the page closes) stops the
    // search instead of leaving it to read the whole log for no one.
    const gone = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    const result = await searchLog(api.data.logs, id, {
      signal: gone.signal,
      query: q.q,
      regex: q.regex === 'true' || q.regex === '1',
      ignoreCase: q.icase === 'true' || q.icase === '1',
      limit,
    });
    return sendJson(req, reply, { matches: result.lines, meta: { truncated: result.truncated } }, false);
  });

  registerRealtime(app, options.queue, {
    heartbeatSeconds: options.sseHeartbeatSeconds ?? 25,
    log,
    guard: auth,
  });

  app.get(`${API_PREFIX}/*`, async (req, reply) => {
    // The path as sent (the router decodes each segment once), not Fastify's decoded param.
    const path = req.url.split('?')[0]!.slice(API_PREFIX.length);
    const body = await api.get(path, searchParams(req));
    const list = Object.values(body).find(Array.isArray) as Record<string, unknown>[] | undefined;
    // A single finished resource no longer changes: clients may keep it.
    const finished = api.router.match(path)?.path.collection === false && list?.[0]?.complete === true;
    return sendJson(req, reply, body, finished);
  });

  registerBadges(app, api);
  if (options.webApp) await registerWebApp(app, options.webApp);
  return app;
}
