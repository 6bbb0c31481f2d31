// The OpenAPI document at /api/v2/openapi.json is generated from the resource declarations;
// every live answer of every declared path (and the log routes, and errors) validates
// against it with a real JSON Schema validator (Ajv, draft 2020-12 as OpenAPI 3.1 uses).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import { ACTIONS } from '../src/api/actions/index.js';
import { DataApi } from '../src/api/data-api.js';
import { InProcessQueue } from '../src/api/mq/in-process.js';
import { buildApiApp } from '../src/http/app.js';
import { type ApiSeed, examplePaths, seedApiData } from './api-fixtures.js';
import { openData, type TestData, tempDir } from './helpers.js';

type Doc = { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };

describe('data API OpenAPI document (real HTTP, Ajv)', () => {
  const dir = tempDir('lathe-api-openapi-');
  let t: TestData;
  let api: DataApi;
  let app: FastifyInstance;
  let base: string;
  let seed: ApiSeed;
  let doc: Doc;
  const ajv = new Ajv2020({ strict: false, allErrors: true });

  before(async () => {
    t = await openData(join(dir.path, 'openapi.sqlite'));
    seed = await seedApiData(t.data);
    api = new DataApi(t.data);
    app = await buildApiApp({ api, queue: new InProcessQueue() });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v2`;
    doc = (await (await fetch(`${base}/openapi.json`)).json()) as Doc;
    ajv.addSchema({ ...doc, $id: 'openapi.json' });
  });

  after(async () => {
    await app.close();
    await t.close();
    dir.cleanup();
  });

  const pointer = (...parts: string[]) =>
    parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
  const validator = (path: string, status: string) =>
    ajv.compile({
      $ref: `openapi.json#/${pointer('paths', path, 'get', 'responses', status, 'content', 'application/json', 'schema')}`,
    });

  function assertValid(path: string, status: string, body: unknown, what: string): void {
    const validate = validator(path, status);
    assert.ok(validate(body), `${what}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`);
  }

  it('documents every declared path and the log routes, with a schema per resource type', () => {
    const documented = Object.keys(doc.paths);
    for (const { path } of api.router.routes)
      assert.ok(
        documented.includes(path.pattern.replace(/:(\w+)/g, '{$1}')),
        `${path.pattern} is documented`,
      );
    for (const p of ['/logs/{logid}/contents', '/logs/{logid}/raw', '/logs/{logid}/search'])
      assert.ok(documented.includes(p), p);
    for (const type of api.types) assert.ok(doc.components.schemas[type.name], type.name);
    for (const name of Object.keys(doc.components.schemas))
      assert.doesNotThrow(() => ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` }), name);
  });

  it('every live answer of every path validates against its documented schema', async () => {
    const paths = examplePaths(seed);
    for (const { path } of api.router.routes) {
      const concrete = paths[path.pattern]!;
      const res = await fetch(`${base}${concrete}?total=${path.collection}`);
      assert.equal(res.status, 200, concrete);
      assertValid(path.pattern.replace(/:(\w+)/g, '{$1}'), '200', await res.json(), concrete);
      const bad = await fetch(`${base}${concrete}?nosuchfield__eq=1`);
      assert.equal(bad.status, 400, concrete);
      assertValid(path.pattern.replace(/:(\w+)/g, '{$1}'), '400', await bad.json(), `${concrete} (400)`);
    }
    const contents = await (await fetch(`${base}/logs/${seed.logid}/contents?limit=5`)).json();
    assertValid('/logs/{logid}/contents', '200', contents, 'contents');
    const search = await (await fetch(`${base}/logs/${seed.logid}/search?q=line`)).json();
    assertValid('/logs/{logid}/search', '200', search, 'search');
  });

  it('the schemas are strict: an undeclared field or a wrong type fails', async () => {
    const body = (await (await fetch(`${base}/builds/${seed.alphaBuilds[0]!.buildid}`)).json()) as {
      builds: Record<string, unknown>[];
    };
    const validate = validator('/builds/{buildid}', '200');
    assert.ok(validate(body));
    assert.equal(validate({ ...body, builds: [{ ...body.builds[0], extra: 1 }] }), false);
    assert.equal(validate({ ...body, builds: [{ ...body.builds[0], number: 'one' }] }), false);
    assert.equal(validate({ ...body, builds: [{ ...body.builds[0], complete_at: null }] }), true, 'nullable');
    assert.equal(validate({ ...body, builds: [{ ...body.builds[0], number: null }] }), false, 'not nullable');
  });

  it('documents each action as a POST of its paths; live answers and requests validate', async () => {
    const post = (path: string, ...rest: string[]) =>
      ajv.compile({ $ref: `openapi.json#/${pointer('paths', path, 'post', ...rest)}` });
    for (const action of ACTIONS)
      for (const pattern of action.paths) {
        const path = pattern.replace(/:(\w+)/g, '{$1}');
        const request = post(path, 'requestBody', 'content', 'application/json', 'schema');
        const body = { jsonrpc: '2.0', method: action.method, params: {}, id: 1 };
        assert.ok(request(body), `${action.method} at ${path}: ${ajv.errorsText(request.errors)}`);
      }
    const request = post('/builds/{buildid}', 'requestBody', 'content', 'application/json', 'schema');
    assert.equal(request({ jsonrpc: '2.0', method: 'force', params: {} }), false, 'not an action of builds');
    assert.equal(
      request({ jsonrpc: '2.0', method: 'stop', params: { reason: 3 } }),
      false,
      'reason is a string',
    );

    const send = (path: string, method: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', method, params: {}, id: 'a' }),
      });
    const buildPath = `/builds/${seed.alphaBuilds.at(-1)!.buildid}`;
    for (const [method, status] of [
      ['stop', '401'],
      ['explode', '501'],
    ] as const) {
      const res = await send(buildPath, method);
      assert.equal(String(res.status), status, method);
      const validate = post(
        '/builds/{buildid}',
        'responses',
        status,
        'content',
        'application/json',
        'schema',
      );
      const answer = await res.json();
      assert.ok(validate(answer), `${method}: ${ajv.errorsText(validate.errors)} ${JSON.stringify(answer)}`);
    }
  });
});
