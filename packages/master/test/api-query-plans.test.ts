// No data API collection read walks a table that grows with history: every query a path
// sends — its page, its count, its keyset page, the lookups that resolve nested paths and
// the reads of computed fields — is checked with SQLite's EXPLAIN QUERY PLAN. A history
// table may be read only through an index search; the one exception is a top-level
// collection (`/builds`, `/changes`) walking its primary key in order, which a LIMIT stops.
// Paths over history order only by what an index serves, so no page needs a sort step.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CompiledQuery, Kysely } from 'kysely';
import { DataApi } from '../src/api/data-api.js';
import type { DataLayer } from '../src/data/index.js';
import type { Database } from '../src/db/schema.js';
import { type ApiSeed, examplePaths, seedApiData } from './api-fixtures.js';
import { openRecordedData, tempDir } from './helpers.js';

const HISTORY = new Set([
  'builds',
  'buildrequests',
  'changes',
  'change_files',
  'change_properties',
  'steps',
  'logs',
  'sourcestamps',
  'buildsets',
  'buildset_sourcestamps',
  'build_properties',
  'build_metrics',
  'blame_builds',
  'buildset_changes',
  'bisections',
  'tests',
  'test_runs',
  'annotations',
]);

describe('query plans of every data API collection (real SQLite)', () => {
  const dir = tempDir('lathe-api-plans-');
  let kysely: Kysely<Database>;
  let data: DataLayer;
  let queries: CompiledQuery[];
  let api: DataApi;
  let seed: ApiSeed;

  before(async () => {
    ({ kysely, data, queries } = await openRecordedData(join(dir.path, 'plans.sqlite')));
    seed = await seedApiData(data);
    // More history, so that a scan would be a real choice for the planner.
    for (let i = 0; i < 60; i++) await seedApiData(data);
    api = new DataApi(data);
  });

  after(async () => {
    await kysely.destroy();
    dir.cleanup();
  });

  async function plansOf(sent: CompiledQuery[]): Promise<{ sql: string; plan: string }[]> {
    const out = [];
    for (const q of sent) {
      if (!/^select /.test(q.sql)) continue;
      const { rows } = await kysely.executeQuery<{ detail: string }>({
        ...q,
        sql: `EXPLAIN QUERY PLAN ${q.sql}`,
      });
      out.push({ sql: q.sql, plan: rows.map((r) => r.detail).join(' | ') });
    }
    return out;
  }

  async function check(path: string, query: Record<string, string>, pkWalkAllowed: boolean): Promise<number> {
    queries.length = 0;
    await api.get(path, query);
    const plans = await plansOf([...queries]);
    assert.ok(plans.length > 0, `${path}: no query recorded`);
    for (const { sql, plan } of plans) {
      for (const m of plan.matchAll(/(?:^|\| )SCAN (\w+)/g)) {
        const table = m[1]!;
        if (!HISTORY.has(table)) continue;
        const counting = /count\(\*\)/.test(sql);
        const walk = pkWalkAllowed && !counting && /\blimit\b/.test(sql) && !/TEMP B-TREE/.test(plan);
        assert.ok(walk, `${path} ${JSON.stringify(query)} scans ${table}: ${plan}\n${sql}`);
      }
      // A page must come off the index in order; the rows a page's computed fields read
      // (`… in (ids of the page)`) are bounded by the page and may be sorted.
      if (/\blimit\b/.test(sql))
        assert.doesNotMatch(
          plan,
          /TEMP B-TREE FOR ORDER BY/,
          `${path} ${JSON.stringify(query)}: sort step: ${plan}\n${sql}`,
        );
    }
    return plans.length;
  }

  it('reads every collection path, in each indexed order, by key and counted, from indexes', async () => {
    const paths = examplePaths(seed);
    let checked = 0;
    for (const { path } of api.router.routes) {
      if (!path.collection) continue;
      const concrete = paths[path.pattern]!;
      // Only a top-level collection over history, read in primary key order, may walk it.
      const topLevel = Object.keys(path.params).length === 0 && path.indexedOrder !== undefined;
      await check(concrete, {}, topLevel);
      for (const field of path.indexedOrder ?? []) {
        for (const order of [field, `-${field}`]) {
          await check(concrete, { order, limit: '2' }, topLevel);
          const first = await api.get(concrete, { order, limit: '2' });
          if (first.meta.next) await check(concrete, { order, limit: '2', after: first.meta.next }, topLevel);
        }
      }
      // Counting every match of a history collection is allowed only along an index.
      if (!topLevel) await check(concrete, { total: 'true' }, false);
      checked++;
    }
    assert.ok(checked >= 15, `${checked} collection paths checked`);
  });

  it('reads a test’s last failures and a builder’s flaky or muted tests from indexes', async () => {
    await check(`/tests/${seed.testid}/runs`, { outcome: 'fail', order: '-testrunid', limit: '10' }, false);
    await check(`/builders/${seed.alpha}/tests`, { flaky_until__gt: '0', order: 'name', limit: '50' }, false);
    await check(`/builders/${seed.alpha}/tests`, { muted: 'true', order: 'name' }, false);
    await check(`/builders/${seed.alpha}/tests`, { name__contains: 'bad', order: 'name' }, false);
  });

  it('the checker catches a scan: a count of all builds reads the whole table', async () => {
    await assert.rejects(check('/builds', { total: 'true' }, true), /scans builds/);
  });
});
