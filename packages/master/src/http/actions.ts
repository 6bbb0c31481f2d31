// Actions over HTTP, in Buildbot's JSON-RPC 2.0 shape: POST to a resource's path
//   { "jsonrpc": "2.0", "method": "stop", "params": { "reason": "…" }, "id": 1 }
// answers { "jsonrpc": "2.0", "id": 1, "result": … } or { …, "error": { code, message } } with
// Buildbot's HTTP statuses (400 bad request, 404 no such resource, 501 no such action) and
// 401/403 when the caller may not. Batches and notifications are not supported.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type ActionContext, ActionError, ActionParams, actionsAt } from '../api/actions/index.js';
import { ApiNotFoundError, type DataApi } from '../api/data-api.js';
import type { HttpAuth } from './auth.js';
import { AuthError } from './auth.js';

/** JSON-RPC 2.0 error codes (https://www.jsonrpc.org/specification), as Buildbot sends them. */
export const JSONRPC = {
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** Implementation-defined: the resource's state refuses the action (409). */
  refused: -32000,
} as const;

export interface ActionRoutesOptions {
  readonly api: DataApi;
  readonly auth: HttpAuth;
  readonly apiPrefix: string;
  /** Absent: the server has no master to act on (actions answer 503). */
  readonly context?: ActionContext;
  readonly log: (line: string) => void;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function registerActions(app: FastifyInstance, options: ActionRoutesOptions): void {
  const { api, auth, apiPrefix, context, log } = options;
  app.post(`${apiPrefix}/*`, async (req, reply) => {
    let id: unknown = null;
    const fail = (status: number, code: number, message: string, data?: unknown): FastifyReply =>
      reply
        .code(status)
        .send({ jsonrpc: '2.0', id, error: { code, message, ...(data === undefined ? {} : { data }) } });
    const body = req.body;
    if (Array.isArray(body)) return fail(400, JSONRPC.invalidRequest, 'JSON-RPC batches are not supported');
    if (!isObject(body))
      return fail(400, JSONRPC.invalidRequest, 'the body must be a JSON-RPC 2.0 request object');
    if (typeof body.id === 'string' || typeof body.id === 'number') id = body.id;
    if (body.jsonrpc !== '2.0') return fail(400, JSONRPC.invalidRequest, 'jsonrpc must be "2.0"');
    if (typeof body.method !== 'string') return fail(400, JSONRPC.invalidRequest, 'method must be a string');
    const params = body.params ?? {};
    if (!isObject(params)) return fail(400, JSONRPC.invalidParams, 'params must be an object');

    const path = req.url.split('?')[0]!.slice(apiPrefix.length);
    const match = api.router.match(path);
    if (!match) return fail(404, JSONRPC.invalidRequest, `nothing at ${path}`);
    const offered = actionsAt(match.path.pattern);
    const action = offered.find((a) => a.method === body.method);
    if (!action)
      return fail(
        501,
        JSONRPC.methodNotFound,
        offered.length === 0
          ? `${match.path.pattern} takes no actions`
          : `${JSON.stringify(body.method)} is not an action of ${match.path.pattern} (actions: ${offered.map((a) => a.method).join(', ')})`,
      );
    try {
      auth.require(req.identity, action.permission, `${action.method} ${match.type.plural}`);
    } catch (err) {
      if (err instanceof AuthError) return fail(err.status, JSONRPC.invalidRequest, err.message);
      throw err;
    }
    if (!context) return fail(503, JSONRPC.internalError, 'this server has no master to act on');
    try {
      const found = await api.get(path);
      const resource = (found[match.type.plural] as Record<string, unknown>[])[0]!;
      const result = await action.run(resource, new ActionParams(params), context, req.identity.user);
      return reply.send({ jsonrpc: '2.0', id, result });
    } catch (err) {
      if (err instanceof ApiNotFoundError) return fail(404, JSONRPC.invalidRequest, err.message);
      if (err instanceof ActionError)
        return fail(
          err.status,
          err.status === 400 ? JSONRPC.invalidParams : JSONRPC.refused,
          err.message,
          err.data,
        );
      log(`data API: action ${action.method} on ${path} failed: ${(err as Error).stack ?? String(err)}`);
      return fail(500, JSONRPC.internalError, 'internal error');
    }
  });
}
