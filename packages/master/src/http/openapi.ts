// The OpenAPI 3.1 document of /api/v2, generated from the resource declarations: one
// schema per resource type, one GET per declared path, plus the log and realtime routes.
import { type ActionDecl, actionsAt } from '../api/actions/index.js';
import type { DataApi } from '../api/data-api.js';
import { FILTER_OPS, MAX_LIMIT } from '../api/query.js';
import {
  type FieldDecl,
  isFilterable,
  isOrderable,
  isStringList,
  type PathDecl,
  type ResourceType,
} from '../api/resource.js';

type Schema = Record<string, unknown>;

function fieldSchema(f: FieldDecl): Schema {
  const base: Schema = f.schema ? { ...f.schema } : { type: f.type };
  if (f.nullable) base.type = [base.type as string, 'null'];
  const description = f.onlyWhenAsked ? `${f.description}; only when \`field=\` names it` : f.description;
  return { ...base, description };
}

function resourceSchema(t: ResourceType): Schema {
  return {
    type: 'object',
    description: `${t.description} With \`field=\`, only the fields asked for.`,
    properties: Object.fromEntries(Object.entries(t.fields).map(([name, f]) => [name, fieldSchema(f)])),
    additionalProperties: false,
  };
}

const META: Schema = {
  type: 'object',
  properties: {
    total: { type: 'integer', description: 'every match (with total=true)' },
    next: { type: 'string', description: 'the `after` cursor of the next page' },
    scan_stopped: {
      type: 'boolean',
      enum: [true],
      description:
        'the page stopped at the scan budget before it was full (a filter no index serves); continue with next',
    },
  },
  additionalProperties: false,
};

const ERROR: Schema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    param: { type: 'string', description: 'the query parameter at fault' },
    field: { type: 'string', description: 'the field at fault' },
  },
  required: ['error'],
};

const JSONRPC_ERROR: Schema = {
  type: 'object',
  properties: {
    jsonrpc: { const: '2.0' },
    id: { type: ['integer', 'string', 'null'] },
    error: {
      type: 'object',
      properties: { code: { type: 'integer' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['jsonrpc', 'id', 'error'],
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });
const errors = {
  '400': { description: 'a bad query: the parameter and field are named', content: json(ref('Error')) },
  '404': { description: 'nothing at this path', content: json(ref('Error')) },
};

function queryParameters(t: ResourceType, p: PathDecl): Schema[] {
  const q = (name: string, description: string, schema: Schema = { type: 'string' }) => ({
    name,
    in: 'query',
    required: false,
    description,
    schema,
  });
  const params = [q('field', 'fields to return (repeatable)', { type: 'array', items: { type: 'string' } })];
  if (!p.collection) return params;
  const filterable = Object.entries(t.fields)
    .filter(([, f]) => isFilterable(f))
    .map(([n]) => n);
  const lists = Object.entries(t.fields)
    .filter(([, f]) => isStringList(f))
    .map(([n]) => n);
  const order =
    p.indexedOrder ??
    Object.entries(t.fields)
      .filter(([, f]) => isOrderable(f))
      .map(([n]) => n);
  return [
    ...params,
    q('order', `order by ${order.join(', ')}; '-' for descending (repeatable)`, {
      type: 'array',
      items: { type: 'string' },
    }),
    q('limit', `page size, at most ${MAX_LIMIT}`, { type: 'integer', minimum: 0, maximum: MAX_LIMIT }),
    q('offset', 'skip this many', { type: 'integer', minimum: 0 }),
    q('after', 'keyset paging: meta.next of the previous page'),
    q('total', 'also count every match', { type: 'boolean' }),
    ...filterable.map((n) =>
      q(
        n,
        `filter: ${n}=v or ${n}__op=v, op one of ${FILTER_OPS.join(' ')}; repeat for any of several values`,
      ),
    ),
    ...lists.map((n) =>
      q(`${n}__contains`, `filter: has this element (whole, case-sensitive); repeat for any of several`),
    ),
  ];
}

function pathParameters(p: PathDecl): Schema[] {
  return Object.entries(p.params).map(([name, type]) => ({
    name,
    in: 'path',
    required: true,
    schema:
      type === 'integer'
        ? { type: 'integer', minimum: 0 }
        : type === 'integers'
          ? { type: 'string', pattern: '^\\d+(,\\d+)*$' }
          : { type: 'string', pattern: '^\\D' },
  }));
}

const openApiPath = (pattern: string) => pattern.replace(/:(\w+)/g, '{$1}');

/** The POST of a path that takes actions: one JSON-RPC request shape per action. */
function actionOperation(pattern: string, p: PathDecl, actions: readonly ActionDecl[]): Schema {
  const request = (a: ActionDecl): Schema => ({
    type: 'object',
    description: `${a.method}: ${a.description} (needs the ${a.permission} permission)`,
    properties: {
      jsonrpc: { const: '2.0' },
      method: { const: a.method },
      params: {
        type: 'object',
        properties: Object.fromEntries(
          Object.entries(a.params).map(([n, d]) => [n, { type: d.type, description: d.description }]),
        ),
        additionalProperties: false,
      },
      id: { type: ['integer', 'string', 'null'] },
    },
    required: ['jsonrpc', 'method'],
  });
  const rpcError = (description: string) => ({ description, content: json(ref('JsonRpcError')) });
  return {
    summary: `actions (JSON-RPC 2.0): ${actions.map((a) => a.method).join(', ')}`,
    operationId: `act${pattern.replace(/[/:](\w)/g, (_m, c: string) => c.toUpperCase())}`,
    parameters: pathParameters(p),
    requestBody: { required: true, content: json({ oneOf: actions.map(request) }) },
    responses: {
      '200': {
        description: 'what the action did',
        content: json({
          type: 'object',
          properties: {
            jsonrpc: { const: '2.0' },
            id: { type: ['integer', 'string', 'null'] },
            result: { anyOf: actions.map((a) => a.result) },
          },
          required: ['jsonrpc', 'id', 'result'],
        }),
      },
      '400': rpcError('not a JSON-RPC 2.0 request, or bad params'),
      '401': rpcError('anonymous may not do this: log in or send a bearer token'),
      '403': rpcError('the user’s roles do not allow it, or the CSRF token is missing'),
      '404': rpcError('nothing at this path'),
      '409': rpcError('the resource’s state refuses it (a build already finished, a worker not connected)'),
      '501': rpcError('no such action at this path'),
    },
  };
}

export function openApiDocument(api: DataApi): Schema {
  const schemas: Record<string, Schema> = { Meta: META, Error: ERROR, JsonRpcError: JSONRPC_ERROR };
  for (const t of api.types) schemas[t.name] = resourceSchema(t);
  const paths: Record<string, Schema> = {};
  for (const { type, path } of api.router.routes) {
    paths[openApiPath(path.pattern)] = {
      get: {
        summary: path.description,
        operationId: `get${path.pattern.replace(/[/:](\w)/g, (_m, c: string) => c.toUpperCase())}`,
        parameters: [...pathParameters(path), ...queryParameters(type, path)],
        responses: {
          '200': {
            description: path.collection ? `a page of ${type.plural}` : `one ${type.name}, as a list of one`,
            content: json({
              type: 'object',
              properties: { [type.plural]: { type: 'array', items: ref(type.name) }, meta: ref('Meta') },
              required: [type.plural, 'meta'],
              additionalProperties: false,
            }),
          },
          ...errors,
        },
      },
    };
    const actions = actionsAt(path.pattern);
    if (actions.length > 0)
      (paths[openApiPath(path.pattern)] as Schema).post = actionOperation(path.pattern, path, actions);
  }
  const logid = { name: 'logid', in: 'path', required: true, schema: { type: 'integer', minimum: 0 } };
  const int = (name: string, description: string) => ({
    name,
    in: 'query',
    required: false,
    description,
    schema: { type: 'integer', minimum: 0 },
  });
  paths['/logs/{logid}/contents'] = {
    get: {
      summary: 'a range of a log’s lines as stored (stdio lines start with their stream o/e/h)',
      operationId: 'getLogContents',
      parameters: [logid, int('offset', 'first line, from 0'), int('limit', 'lines, at most 10000')],
      responses: {
        '200': {
          description: 'the lines',
          content: json({
            type: 'object',
            properties: {
              logchunks: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    logid: { type: 'integer' },
                    firstline: { type: 'integer' },
                    content: { type: 'string' },
                  },
                  required: ['logid', 'firstline', 'content'],
                  additionalProperties: false,
                },
              },
              meta: {
                type: 'object',
                properties: { total: { type: 'integer' } },
                required: ['total'],
                additionalProperties: false,
              },
            },
            required: ['logchunks', 'meta'],
            additionalProperties: false,
          }),
        },
        ...errors,
      },
    },
  };
  paths['/logs/{logid}/raw'] = {
    get: {
      summary: 'the whole log as text (stdio stream letters removed), as a download',
      operationId: 'getLogRaw',
      parameters: [logid],
      responses: {
        '200': { description: 'the text', content: { 'text/plain': { schema: { type: 'string' } } } },
      },
    },
  };
  paths['/logs/{logid}/sections'] = {
    get: {
      summary: 'the section markers of a log (`::group::`, `::endgroup::`, `--- `, `+++ ` at a line start)',
      operationId: 'getLogSections',
      parameters: [logid],
      responses: {
        '200': {
          description: 'the markers in line order, recorded as the log was written',
          content: json({
            type: 'object',
            properties: {
              markers: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    line: { type: 'integer' },
                    kind: { type: 'string', enum: ['group', 'endgroup', 'folded', 'unfolded'] },
                    title: { type: 'string' },
                  },
                  required: ['line', 'kind', 'title'],
                  additionalProperties: false,
                },
              },
              meta: {
                type: 'object',
                properties: {
                  recorded: { type: 'boolean' },
                  truncated: { type: 'boolean' },
                  total: { type: 'integer' },
                },
                required: ['recorded', 'truncated', 'total'],
                additionalProperties: false,
              },
            },
            required: ['markers', 'meta'],
            additionalProperties: false,
          }),
        },
        ...errors,
      },
    },
  };
  paths['/logs/{logid}/search'] = {
    get: {
      summary: 'numbers of the lines that contain a text or match a regular expression',
      operationId: 'searchLog',
      parameters: [
        logid,
        { name: 'q', in: 'query', required: true, schema: { type: 'string', maxLength: 1000 } },
        { name: 'regex', in: 'query', required: false, schema: { type: 'boolean' } },
        { name: 'icase', in: 'query', required: false, schema: { type: 'boolean' } },
        {
          name: 'limit',
          in: 'query',
          required: false,
          schema: { type: 'integer', minimum: 1, maximum: 100000 },
        },
      ],
      responses: {
        '200': {
          description: 'matching line numbers, ascending',
          content: json({
            type: 'object',
            properties: {
              matches: { type: 'array', items: { type: 'integer' } },
              meta: {
                type: 'object',
                properties: { truncated: { type: 'boolean' } },
                required: ['truncated'],
                additionalProperties: false,
              },
            },
            required: ['matches', 'meta'],
            additionalProperties: false,
          }),
        },
        ...errors,
        '422': { description: 'the regular expression took too long', content: json(ref('Error')) },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Lathe data API',
      version: '2',
      description:
        'REST reads of the master’s resources (Buildbot’s /api/v2 shape) and actions as JSON-RPC 2.0 POSTs. Realtime: WebSocket /api/v2/ws and SSE /api/v2/sse (see http/realtime.ts). Auth: session cookie from POST /auth/login (state-changing requests then need the X-CSRF-Token header) or `Authorization: Bearer <API token>`.',
    },
    servers: [{ url: '/api/v2' }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'lathe_session' },
        token: { type: 'http', scheme: 'bearer' },
      },
    },
  };
}
