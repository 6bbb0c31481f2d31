// The scan budget: a page of a collection that grows with history, filtered by a field no
// index serves, examines at most `scanBudget` rows in index order and hands back a cursor,
// so no read walks the whole history. A small budget over a few hundred builds stands for
// the default 10,000 over millions.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ApiBody, DataApi, type Resource } from '../src/api/data-api.js';
import { QueryError } from '../src/api/query.js';
import { openData, type TestData, tempDir } from './helpers.js';

const BUDGET = 40;
const BUILDERS = 2;
const BUILDS = 301;
/** Build ids whose state_string says `needle`: sparse, clustered and at both ends. */
const NEEDLES = new Set([1, 2, 3, 39, 40, 41, 80, 81, 200, 260, 299, 300, 301]);

describe('data API: scan budget for filters no index serves (real SQLite)', () => {
  const dir = tempDir('lathe-api-budget-');
  let t: TestData;
  let api: DataApi;

  before(async () => {
    t = await openData(join(dir.path, 'api.sqlite'));
    const db = t.data.ctx.db;
    await db.insertInto('masters').values({ name: 'm', active: 1, last_active: 0 }).execute();
    for (let b = 1; b <= BUILDERS; b++)
      await db
        .insertInto('builders')
        .values({ name: `b${b}`, description: null, tags: '[]', project: null })
        .execute();
    await db
      .insertInto('buildsets')
      .values({
        submitted_at: 0,
        complete: 1,
        complete_at: 1,
        results: 0,
        external_idstring: null,
        reason: null,
        parent_buildid: null,
        parent_relationship: null,
      })
      .execute();
    await db
      .insertInto('buildrequests')
      .values({
        buildsetid: 1,
        builderid: 1,
        priority: 0,
        submitted_at: 0,
        claimed_by_master: null,
        claimed_at: null,
        complete: 1,
        results: 0,
        complete_at: 1,
        waited_for: 0,
      })
      .execute();
    const rows = Array.from({ length: BUILDS }, (_, i) => ({
      number: Math.floor(i / BUILDERS) + 1,
      builderid: (i % BUILDERS) + 1,
      buildrequestid: 1,
      workerid: null,
      masterid: 1,
      started_at: i,
      complete_at: i + 1,
      state_string: NEEDLES.has(i + 1) ? `found the needle ${i + 1}` : 'hay',
      results: 0,
    }));
    for (let i = 0; i < rows.length; i += 100)
      await db
        .insertInto('builds')
        .values(rows.slice(i, i + 100))
        .execute();
    api = new DataApi(t.data, undefined, { scanBudget: BUDGET });
  });

  after(async () => {
    await t.close();
    dir.cleanup();
  });

  /** Follows meta.next from the first page to the end; every page's body. */
  async function walk(path: string, query: Record<string, string>): Promise<ApiBody[]> {
    const pages: ApiBody[] = [];
    let next: string | undefined;
    do {
      const body = await api.get(path, next ? { ...query, after: next } : query);
      pages.push(body);
      next = body.meta.next;
      assert.ok(pages.length <= BUILDS, 'the walk ends');
    } while (next);
    return pages;
  }
  const ids = (pages: ApiBody[]) => pages.flatMap((p) => (p.builds as Resource[]).map((b) => b.buildid));

  it('a filter matching nothing answers an empty page with a continuation, and the walk reaches the end', async () => {
    const first = await api.get('/builds', { state_string__contains: 'nomatch', limit: '50' });
    assert.deepEqual(first.builds, []);
    assert.equal(first.meta.scan_stopped, true);
    assert.ok(first.meta.next, 'a cursor to continue');
    const pages = await walk('/builds', { state_string__contains: 'nomatch', limit: '50' });
    assert.deepEqual(ids(pages), []);
    // 301 rows, 40 a page: 8 stopped pages and a last one that reached the end.
    assert.equal(pages.length, Math.ceil(BUILDS / BUDGET));
    assert.deepEqual(
      pages.map((p) => p.meta.scan_stopped ?? false),
      [...Array(pages.length - 1).fill(true), false],
    );
  });

  it('every match comes exactly once, in order, across continuations, whatever the page size', async () => {
    const newestFirst = [...NEEDLES].sort((a, b) => b - a);
    for (const limit of ['1', '2', '3', '50']) {
      const pages = await walk('/builds', { state_string__contains: 'needle', limit });
      assert.deepEqual(ids(pages), newestFirst, `limit ${limit}`);
      for (const p of pages) assert.ok((p.builds as Resource[]).length <= Number(limit));
    }
    const oldestFirst = await walk('/builds', {
      state_string__contains: 'needle',
      order: 'buildid',
      limit: '4',
    });
    assert.deepEqual(ids(oldestFirst), [...newestFirst].reverse());
  });

  it('bounds a builder’s builds the same way, by number', async () => {
    const pages = await walk('/builders/1/builds', { state_string__contains: 'needle', limit: '50' });
    const expected = [...NEEDLES].filter((id) => id % BUILDERS === 1).sort((a, b) => b - a);
    assert.deepEqual(ids(pages), expected);
    assert.ok(pages.length > 1, 'a builder’s 151 builds take several budgets');
  });

  it('a full page within the budget continues after its last match, without scan_stopped', async () => {
    const body = await api.get('/builds', { state_string__contains: 'needle', limit: '2' });
    assert.deepEqual(
      (body.builds as Resource[]).map((b) => b.buildid),
      [301, 300],
    );
    assert.equal(body.meta.scan_stopped, undefined);
  });

  it('leaves filters an index serves and unfiltered pages alone', async () => {
    const unfinished = await api.get('/builds', { complete: 'false', limit: '50' });
    assert.deepEqual(unfinished.builds, []);
    assert.deepEqual(unfinished.meta, {}, 'the index answers: no continuation');
    const page = await api.get('/builds', { limit: '100' });
    assert.equal((page.builds as Resource[]).length, 100);
    assert.equal(page.meta.scan_stopped, undefined);
  });

  it('refuses offset with a budgeted filter, naming the parameter', async () => {
    await assert.rejects(
      api.get('/builds', { state_string__contains: 'needle', offset: '10' }),
      (err: unknown) => err instanceof QueryError && err.param === 'offset',
    );
  });
});
