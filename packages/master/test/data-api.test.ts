// The data API over HTTP and in process: every declared path answers the same both ways,
// the query spec (fields, filters, order, paging, totals) and its errors, ETags,
// compression, and the log endpoints (line ranges, raw download, search).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { DataApi } from '../src/api/data-api.js';
import { InProcessQueue } from '../src/api/mq/in-process.js';
import { QueryError } from '../src/api/query.js';
import { buildApiApp } from '../src/http/app.js';
import { type ApiSeed, examplePaths, seedApiData } from './api-fixtures.js';
import { openData, type TestData, tempDir } from './helpers.js';

describe('data API: REST over HTTP and in process (real SQLite, real HTTP)', () => {
  const dir = tempDir('lathe-api-');
  let t: TestData;
  let api: DataApi;
  let app: FastifyInstance;
  let base: string;
  let seed: ApiSeed;

  const http = async (path: string, init?: RequestInit) => fetch(`${base}/api/v2${path}`, init);
  const json = async (path: string) => {
    const res = await http(path);
    assert.equal(res.status, 200, `${path}: ${res.status} ${await res.clone().text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const list = async (path: string) => {
    const body = await json(path);
    return Object.values(body).find(Array.isArray) as Record<string, unknown>[];
  };

  before(async () => {
    t = await openData(join(dir.path, 'api.sqlite'));
    seed = await seedApiData(t.data);
    api = new DataApi(t.data);
    app = await buildApiApp({ api, queue: new InProcessQueue() });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });

  after(async () => {
    await app.close();
    await t.close();
    dir.cleanup();
  });

  it('reads every declared path over HTTP and in process, with the same non-empty answer', async () => {
    const paths = examplePaths(seed);
    const declared = api.router.routes.map((r) => r.path.pattern);
    assert.deepEqual(
      [...declared].sort(),
      Object.keys(paths).sort(),
      'an example path for every declaration',
    );
    for (const { type, path } of api.router.routes) {
      const concrete = paths[path.pattern]!;
      assert.equal(api.router.match(concrete)?.path, path, `${concrete} routes to ${path.pattern}`);
      const inProcess = await api.get(concrete);
      const overHttp = await json(concrete);
      assert.deepEqual(overHttp, JSON.parse(JSON.stringify(inProcess)), concrete);
      const resources = overHttp[type.plural] as Record<string, unknown>[];
      assert.ok(resources.length > 0, `${concrete} found something`);
      if (!path.collection) assert.equal(resources.length, 1, concrete);
      // Every field but those given only when `field=` names them.
      const full = Object.keys(type.fields).filter((f) => !type.fields[f]!.onlyWhenAsked);
      for (const r of resources) assert.deepEqual(Object.keys(r), full, `${concrete}: full resource`);
    }
  });

  it('answers in Buildbot’s shape, with full resources', async () => {
    const last = seed.alphaBuilds.at(-1)!;
    const first = seed.alphaBuilds[0]!;
    assert.deepEqual(await json(`/builders/${seed.alpha}/builds/${first.number}`), {
      builds: [
        {
          buildid: first.buildid,
          number: 1,
          builderid: seed.alpha,
          buildrequestid: first.buildrequestid,
          workerid: seed.workerid,
          masterid: seed.masterid,
          started_at: (await t.data.builds.get(first.buildid))!.startedAt,
          complete_at: (await t.data.builds.get(first.buildid))!.completeAt,
          complete: true,
          state_string: 'build successful',
          results: 0,
        },
      ],
      meta: {},
    });
    const [builder] = await list(`/builders/${seed.alpha}`);
    assert.deepEqual(builder, {
      builderid: seed.alpha,
      name: 'alpha',
      description: 'the first',
      tags: ['fast', 'linux'],
      project: 'demo',
      masterids: [seed.masterid],
    });
    assert.deepEqual(
      await list('/workers/linux%2D1'),
      await list('/workers/linux-1'),
      'segments decoded once',
    );
    assert.equal((await http('/workers/linux%252D1')).status, 404, 'and only once');
    const [worker] = await list('/workers/linux-1');
    assert.deepEqual(worker, {
      workerid: seed.workerid,
      name: 'linux-1',
      workerinfo: { host: 'box', version: '3.7' },
      paused: false,
      graceful: false,
      connected_to: [{ masterid: seed.masterid }],
      configured_on: [{ builderid: seed.alpha, masterid: seed.masterid }],
      latent: false,
      latent_state: null,
      last_start_error: null,
      last_start_error_at: null,
      missing: false,
      next_start_at: null,
      idle_stop_at: null,
    });
    const [cloud] = await list(`/workers/${seed.latentWorkerid}`);
    assert.deepEqual(
      [cloud!.latent, cloud!.latent_state, cloud!.last_start_error_at, cloud!.idle_stop_at],
      [true, 'running', 1_700_000_000, 1_700_000_700],
    );
    const [change] = await list(`/changes/${seed.changeid}`);
    assert.deepEqual(change!.files, ['src/a.c', 'src/b.c']);
    assert.deepEqual(change!.properties, { ticket: [42, 'Change'] });
    const steps = await list(`/builds/${last.buildid}/steps`);
    assert.deepEqual(
      steps.map((s) => [s.name, s.complete, s.results]),
      [
        ['compile', true, 0],
        ['test', false, null],
      ],
    );
    assert.deepEqual(steps[0]!.urls, [{ name: 'report', url: 'http://example.org/r' }]);
    // The latest build of every builder that has one (beta has none).
    assert.deepEqual(await list('/lastbuilds?field=builderid&field=number'), [
      { builderid: seed.alpha, number: 5 },
    ]);
    // The latest n of every builder, or of the builders a filter names, in one read.
    assert.deepEqual(await list('/lastbuilds/2?field=builderid&field=number&order=number'), [
      { builderid: seed.alpha, number: 4 },
      { builderid: seed.alpha, number: 5 },
    ]);
    assert.deepEqual(await list(`/lastbuilds/25?builderid=${seed.beta}`), []);
    assert.equal(
      (await list(`/lastbuilds/25?builderid__in=${seed.alpha}&builderid__in=${seed.beta}`)).length,
      5,
    );
    for (const bad of ['/lastbuilds/0', '/lastbuilds/26']) {
      const res = await http(bad);
      assert.equal(res.status, 400, bad);
      assert.equal(((await res.json()) as { param: string }).param, 'count');
    }
    const [running] = await list(`/builds/${last.buildid}`);
    assert.equal(running!.complete, false);
    assert.equal(running!.complete_at, null);
  });

  it('selects fields, filters with every operator, orders and pages', async () => {
    const b = `/builders/${seed.alpha}/builds`;
    assert.deepEqual(await list(`${b}?field=number&field=results&order=number`), [
      { number: 1, results: 0 },
      { number: 2, results: 0 },
      { number: 3, results: 2 },
      { number: 4, results: 0 },
      { number: 5, results: null },
    ]);
    const numbers = async (q: string) =>
      (await list(`${b}?field=number&${q.includes('order=') ? '' : 'order=number&'}${q}`)).map(
        (r) => r.number,
      );
    assert.deepEqual(await numbers('results=2'), [3]);
    assert.deepEqual(await numbers('results__eq=0'), [1, 2, 4]);
    assert.deepEqual(await numbers('results__ne=0'), [3], 'ne never matches NULL, as in SQL');
    assert.deepEqual(await numbers('results__eq=null'), [5]);
    assert.deepEqual(await numbers('results__ne=null'), [1, 2, 3, 4]);
    assert.deepEqual(await numbers('number__lt=3'), [1, 2]);
    assert.deepEqual(await numbers('number__le=3'), [1, 2, 3]);
    assert.deepEqual(await numbers('number__gt=3'), [4, 5]);
    assert.deepEqual(await numbers('number__ge=3&number__le=4'), [3, 4]);
    assert.deepEqual(await numbers('number__in=1&number__in=5'), [1, 5]);
    assert.deepEqual(await numbers('number__notin=1&number__notin=5'), [2, 3, 4]);
    assert.deepEqual(await numbers('number=2&number=4'), [2, 4], 'a repeated eq is any of');
    assert.deepEqual(await numbers('complete=false'), [5]);
    assert.deepEqual(await numbers('complete=true&results=0'), [1, 2, 4]);
    assert.deepEqual(await numbers('state_string__contains=fail'), [3]);
    assert.deepEqual(await numbers('state_string__contains=%25'), [], 'LIKE wildcards are literal');
    assert.deepEqual(await numbers('order=-number&limit=2'), [5, 4]);
    assert.deepEqual(await numbers('order=-number&limit=2&offset=1'), [4, 3]);
    assert.deepEqual(await numbers('offset=3'), [4, 5]);
    // Default: newest first, a page of at most 200, no total unless asked.
    assert.deepEqual(
      (await list(`${b}?field=number`)).map((r) => r.number),
      [5, 4, 3, 2, 1],
    );
    const counted = await json(`${b}?field=number&limit=2&total=true&results=0`);
    assert.equal((counted.meta as { total: number }).total, 3);
    assert.equal((counted.builds as unknown[]).length, 2);
  });

  it('reads source stamps, buildsets, properties, metrics and test results as recorded', async () => {
    const first = seed.alphaBuilds[0]!;
    const [stamp] = await list(`/sourcestamps/${seed.sourcestampid}`);
    assert.deepEqual(
      { ...stamp, created_at: 0 },
      {
        ssid: seed.sourcestampid,
        branch: 'main',
        revision: 'abc123',
        repository: 'https://example.org/repo.git',
        codebase: '',
        project: '',
        created_at: 0,
        patch: null,
      },
    );
    const [buildset] = await list(`/buildsets/${seed.buildsetid}`);
    assert.equal(buildset!.reason, 'r4');
    assert.deepEqual(
      (buildset!.sourcestamps as { ssid: number }[]).map((s) => s.ssid),
      [seed.sourcestampid],
    );
    assert.deepEqual(
      (await list(`/buildsets?field=reason&limit=2`)).map((b) => b.reason),
      ['r4', 'r3'],
      'newest first',
    );
    assert.deepEqual(
      await list(`/builds/${first.buildid}/properties?field=name&field=value&field=source&order=name`),
      [
        { name: 'got_revision', value: 'abc123', source: 'Git' },
        { name: 'owners', value: ['dev@example.org'], source: 'Force' },
        { name: 'tests-failed', value: 2, source: 'unit' },
      ],
    );
    assert.deepEqual(await list(`/builds/${first.buildid}/properties?name=owners&field=value`), [
      { value: ['dev@example.org'] },
    ]);
    assert.deepEqual(
      await list(`/builds/${first.buildid}/metrics?name__contains=duration&field=name&field=value`),
      [{ name: 'build.duration_s', value: 12.5 }],
    );
    assert.deepEqual(await list(`/builds/${first.buildid}/metrics?value__gt=9.5&field=name`), [
      { name: 'build.duration_s' },
      { name: 'step:unit:tests.total' },
    ]);
    // The metric over the builder's history: only builds that recorded it.
    assert.deepEqual(await list(`/builders/${seed.alpha}/metrics/tests.failed?field=buildid&field=value`), [
      { buildid: first.buildid, value: 2 },
    ]);
    const [tests] = await list(`/builds/${first.buildid}/testresults`);
    assert.deepEqual(tests, {
      stepid: seed.testStepid,
      buildid: first.buildid,
      step_number: 0,
      step_name: 'unit',
      passed: 7,
      failed: 2,
      skipped: 1,
      todo: 0,
      total: 10,
      failed_tests: ['t.bad', 't.worse'],
      failed_tests_truncated: false,
    });
    // Computed from the step's build and name even when only they are asked for.
    assert.deepEqual(await list(`/steps/${seed.testStepid}/testresults?field=failed&field=failed_tests`), [
      { failed: 2, failed_tests: ['t.bad', 't.worse'] },
    ]);
    // A step that ran no tests has none; a build without a Test step neither.
    assert.deepEqual(await list(`/steps/${seed.stepid}/testresults`), []);
    assert.deepEqual(await list(`/builds/${seed.alphaBuilds.at(-1)!.buildid}/testresults`), []);
  });

  it('filters a list field by element with contains', async () => {
    const names = async (q: string) => (await list(`/builders?field=name&${q}`)).map((b) => b.name);
    assert.deepEqual(await names('tags__contains=fast'), ['alpha']);
    assert.deepEqual(await names('tags__contains=nope&tags__contains=linux'), ['alpha'], 'any of');
    assert.deepEqual(await names('tags__contains=fas'), [], 'whole elements, not substrings');
    assert.deepEqual(await names('tags__contains=FAST'), [], 'exact');
    assert.deepEqual(await names('tags__contains=%25'), []);
  });

  it('keeps every builder’s last result, even while a newer build runs', async () => {
    // alpha's build 5 runs; 4 is its last finished one. beta never built.
    assert.deepEqual(await list('/lastbuilds?field=builderid&field=number&field=complete'), [
      { builderid: seed.alpha, number: 5, complete: false },
    ]);
    assert.deepEqual(await list('/lastfinishedbuilds?field=builderid&field=number&field=results'), [
      { builderid: seed.alpha, number: 4, results: 0 },
    ]);
  });

  it('pages by key: following meta.next visits every build once, in order', async () => {
    const seen: unknown[] = [];
    let next: string | undefined;
    for (let page = 0; page < 10; page++) {
      const body = await json(
        `/builders/${seed.alpha}/builds?field=number&limit=2${next ? `&after=${encodeURIComponent(next)}` : ''}`,
      );
      seen.push(...(body.builds as { number: number }[]).map((b) => b.number));
      next = (body.meta as { next?: string }).next;
      if (!next) break;
    }
    assert.deepEqual(seen, [5, 4, 3, 2, 1]);
    // Same in process, over a bounded collection ordered by name.
    const a = await api.get('/builders', { order: 'name', limit: '1', field: 'name' });
    const b2 = await api.get('/builders', { order: 'name', limit: '1', field: 'name', after: a.meta.next! });
    assert.deepEqual([a.builders, b2.builders], [[{ name: 'alpha' }], [{ name: 'beta' }]]);
  });

  it('refuses a bad query with 400 naming the parameter and field, the same in process', async () => {
    const cases: [string, string, string | undefined][] = [
      ['/builds?nosuch=1', 'nosuch', undefined],
      ['/builds?nosuch__eq=1', 'nosuch__eq', 'nosuch'],
      ['/builds?results__like=1', 'results__like', 'results'],
      ['/builds?results__lt=1&results__lt=2', 'results__lt', 'results'],
      ['/builds?results=high', 'results', 'results'],
      ['/builds?complete=maybe', 'complete', 'complete'],
      ['/builds?state_string__gt=a&number__contains=1', 'number__contains', 'number'],
      ['/builds?field=nope', 'field', 'nope'],
      [`/builders/${seed.alpha}/builds?order=results`, 'order', 'results'],
      ['/builders?order=tags', 'order', 'tags'],
      [`/builds/${seed.alphaBuilds[0]!.buildid}/steps?order=complete`, 'order', 'complete'],
      ['/builds?complete__lt=true', 'complete__lt', 'complete'],
      ['/builds?results__in=null&results__in=1', 'results__in', 'results'],
      ['/builders?tags=fast', 'tags', 'tags'],
      ['/builders?tags__ne=fast', 'tags__ne', 'tags'],
      [`/builds/${seed.alphaBuilds[0]!.buildid}/properties?value=1`, 'value', 'value'],
      [`/builds/${seed.alphaBuilds[0]!.buildid}/metrics?value__gt=lots`, 'value__gt', 'value'],
      [`/builds/${seed.alphaBuilds[0]!.buildid}/testresults?failed__gt=0`, 'failed__gt', 'failed'],
      [`/builders/${seed.alpha}/metrics/tests.failed?order=value`, 'order', 'value'],
      ['/buildsets?order=reason', 'order', 'reason'],
      ['/sourcestamps?branch__like=main', 'branch__like', 'branch'],
      ['/builds?limit=-1', 'limit', undefined],
      ['/builds?limit=100000', 'limit', undefined],
      ['/builds?after=garbage', 'after', undefined],
    ];
    for (const [path, param, field] of cases) {
      const res = await http(path);
      const body = (await res.json()) as { error: string; param: string; field?: string };
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.param, param, path);
      assert.equal(body.field, field, path);
      if (field) assert.match(body.error, new RegExp(field), path);
      const [p, q] = path.split('?');
      await assert.rejects(api.get(p!, new URLSearchParams(q)), (err: unknown) => {
        assert.ok(err instanceof QueryError);
        assert.equal(err.param, param);
        return true;
      });
    }
  });

  it('answers 404 for unknown paths and resources that do not exist', async () => {
    for (const path of [
      '/nothing',
      '/builds/999999',
      '/builders/nosuch',
      `/builders/${seed.alpha}/builds/77`,
      '/builds/1/steps/9',
    ]) {
      const res = await http(path);
      assert.equal(res.status, 404, path);
      assert.ok(((await res.json()) as { error: string }).error);
    }
    // A collection under something that does not exist is empty, not an error (as Buildbot).
    assert.deepEqual(await list('/builders/999/builds'), []);
  });

  it('gives finished resources an ETag and answers 304 when the client has them', async () => {
    const done = `/builds/${seed.alphaBuilds[0]!.buildid}`;
    const res = await http(done);
    const etag = res.headers.get('etag');
    assert.ok(etag, 'a finished build has an ETag');
    assert.equal((await http(done, { headers: { 'if-none-match': etag } })).status, 304);
    const running = await http(`/builds/${seed.alphaBuilds.at(-1)!.buildid}`);
    assert.equal(running.headers.get('etag'), null, 'a running build may still change');
  });

  it('compresses answers with gzip or brotli when asked', async () => {
    for (const encoding of ['gzip', 'br']) {
      // Answers under 1 KiB are sent as they are; the OpenAPI document is far larger.
      const { headers, body } = await rawGet(`${base}/api/v2/openapi.json`, { 'accept-encoding': encoding });
      assert.equal(headers['content-encoding'], encoding, JSON.stringify(headers));
      const text = encoding === 'gzip' ? gunzipSync(body) : brotliDecompressSync(body);
      assert.equal(JSON.parse(text.toString()).openapi, '3.1.0');
    }
  });

  it('serves a log’s line ranges, raw text and search', async () => {
    const id = seed.logid;
    const range = await json(`/logs/${id}/contents?offset=5&limit=3`);
    assert.deepEqual(range, {
      logchunks: [{ logid: id, firstline: 5, content: 'eline 5\noline 6\neline 7\n' }],
      meta: { total: 30 },
    });
    const tail = await json(`/logs/${id}/contents?offset=28&limit=100`);
    assert.deepEqual((tail.logchunks as { content: string }[])[0]!.content, 'oline 28\neline 29\n');
    assert.deepEqual(await json(`/logs/${id}/contents?offset=30`), { logchunks: [], meta: { total: 30 } });
    const bad = await http(`/logs/${id}/contents?from=3`);
    assert.equal(bad.status, 400);

    const raw = await http(`/logs/${id}/raw`);
    assert.equal(raw.status, 200);
    assert.match(raw.headers.get('content-type')!, /^text\/plain/);
    assert.match(raw.headers.get('content-disposition')!, /attachment; filename="log-\d+-stdio.txt"/);
    assert.equal(await raw.text(), `${seed.logLines.join('\n')}\n`);

    const expected = seed.logLines.flatMap((l, i) => (l.startsWith('warning') ? [i] : []));
    assert.deepEqual(await json(`/logs/${id}/search?q=warning`), {
      matches: expected,
      meta: { truncated: false },
    });
    assert.deepEqual(await json(`/logs/${id}/search?q=WARNING&icase=true`), {
      matches: expected,
      meta: { truncated: false },
    });
    assert.deepEqual(await json(`/logs/${id}/search?q=${encodeURIComponent('^line 1\\d$')}&regex=true`), {
      matches: [11, 12, 13, 14, 15, 16, 18, 19],
      meta: { truncated: false },
    });
    assert.deepEqual(await json(`/logs/${id}/search?q=line&limit=2`), {
      matches: [0, 1],
      meta: { truncated: true },
    });
    const badRegex = await http(`/logs/${id}/search?q=${encodeURIComponent('(')}&regex=true`);
    assert.equal(badRegex.status, 400);
    assert.equal((await http('/logs/999999/raw')).status, 404);
  });

  it('stops a regular expression that backtracks for ever, and the server keeps answering', async () => {
    const logid = await t.data.logs.add(seed.stepid, 'evil', 't');
    await t.data.logs.append(logid, `${'a'.repeat(40)}!\n`);
    const { searchLog, LogSearchError } = await import('../src/api/log-search.js');
    await assert.rejects(
      searchLog(t.data.logs, logid, { query: '^(a+)+$', regex: true, limit: 10, timeoutMs: 300 }),
      (err: unknown) => err instanceof LogSearchError && err.status === 422,
    );
    assert.equal((await http('/builders')).status, 200);
  });
});

function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}
