import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CompiledQuery, Kysely } from 'kysely';
import type { DataLayer } from '../src/data/index.js';
import { InvalidMetricError } from '../src/data/metrics.js';
import type { Database } from '../src/db/schema.js';
import { BUILD_WARNINGS, BuildMetricsCollector, stepDuration, stepTests } from '../src/metrics/index.js';
import { openRecordedData, tempDir } from './helpers.js';

const BUILDERS = 3;
const BUILDS_PER_BUILDER = 2000;
const STEPS = ['checkout', 'compile', 'test', 'package'];

describe('metrics over time (real SQLite, thousands of builds)', () => {
  const dir = tempDir('lathe-metrics-');
  const file = join(dir.path, 'metrics.sqlite');
  let kysely: Kysely<Database>;
  let data: DataLayer;
  let queries: CompiledQuery[];
  let planOfLast: () => Promise<string[]>;
  const builderids: number[] = [];

  before(async () => {
    ({ kysely, data, queries, planOfLast } = await openRecordedData(file));
    const { masterid } = await data.masters.register('metrics-master');
    for (let b = 0; b < BUILDERS; b++) builderids.push(await data.builders.findOrCreate(`builder-${b}`));
    const ssid = await data.sourcestamps.findOrCreate({ repository: 'r', branch: 'main', revision: 'x' });
    const bs = await data.buildsets.add({
      sourcestampids: [ssid],
      builderids: [builderids[0]!],
      reason: 'seed',
    });
    const brid = bs.buildrequestids.get(builderids[0]!)!;
    // Builders' builds interleave, as on a real master, and are written in bulk for speed.
    await kysely.transaction().execute(async (trx) => {
      for (let n = 1; n <= BUILDS_PER_BUILDER; n++) {
        for (const builderid of builderids) {
          const { id } = await trx
            .insertInto('builds')
            .values({
              number: n,
              builderid,
              buildrequestid: brid,
              workerid: null,
              masterid,
              started_at: 1_700_000_000 + n * 600,
              complete_at: 1_700_000_000 + n * 600 + 300,
              state_string: 'finished',
              results: 0,
            })
            .returning('id')
            .executeTakeFirstOrThrow();
          const metrics = STEPS.map((s, i) => ({
            buildid: id,
            name: stepDuration(s),
            value: builderid * 1000 + n + i / 10,
            recorded_at: 1_700_000_000 + n * 600 + 300,
          }));
          // Warnings only on every other build: a window of N builds then has N/2 samples.
          if (n % 2 === 0) metrics.push({ buildid: id, name: BUILD_WARNINGS, value: n, recorded_at: 0 });
          await trx.insertInto('build_metrics').values(metrics).execute();
        }
      }
    });
  });
  after(async () => {
    await kysely.destroy();
    dir.cleanup();
  });

  it('answers "metric M of builder B over the last N builds" oldest first, from the right builder', async () => {
    const b1 = builderids[1]!;
    const s = await data.metrics.series(b1, stepDuration('compile'), 50);
    assert.equal(s.length, 50);
    assert.deepEqual(
      s.map((p) => p.number),
      Array.from({ length: 50 }, (_, i) => BUILDS_PER_BUILDER - 49 + i),
    );
    assert.deepEqual(
      s.map((p) => p.value),
      s.map((p) => b1 * 1000 + p.number + 0.1),
    );
    const sparse = await data.metrics.series(b1, BUILD_WARNINGS, 10);
    assert.deepEqual(
      sparse.map((p) => p.number),
      [1992, 1994, 1996, 1998, 2000],
    );
    const many = await data.metrics.seriesMany(builderids[2]!, STEPS.map(stepDuration), 5);
    assert.deepEqual(
      [...many.values()].map((v) => v.length),
      [5, 5, 5, 5],
    );
    assert.deepEqual(await data.metrics.series(b1, 'nope', 10), []);
    assert.deepEqual(
      await data.metrics.namesForBuilder(b1, 2),
      [...STEPS.map(stepDuration), BUILD_WARNINGS].sort(),
    );
  });

  it('uses indexes only (no table scan, no sort of the window) and stays fast', async () => {
    queries.length = 0;
    await data.metrics.series(builderids[0]!, stepDuration('test'), 100);
    const details = await planOfLast();
    const plan = details.join(' | ');
    assert.ok(details.length > 0);
    for (const d of details) assert.doesNotMatch(d, /^SCAN /, `full scan in plan: ${plan}`);
    assert.doesNotMatch(plan, /TEMP B-TREE/, 'no sort step');
    // The window: the builder's builds straight from the (builderid, number) index…
    assert.match(plan, /SEARCH builds USING COVERING INDEX \w+ \(builderid=\?\)/);
    // …and each build's value by an index on (name, buildid) or (buildid, name).
    assert.match(plan, /SEARCH m USING INDEX \w+ \((name=\? AND buildid=\?|buildid=\? AND name=\?)\)/);
    const runs = 200;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++)
      await data.metrics.series(builderids[i % BUILDERS]!, stepDuration('compile'), 100);
    const perQueryMs = (performance.now() - t0) / runs;
    assert.ok(perQueryMs < 25, `series() took ${perQueryMs.toFixed(2)} ms per query`);
  });

  it('collects a build’s metrics in memory and writes them in one go', async () => {
    const c = new BuildMetricsCollector();
    c.stepFinished('compile', 12.5, 3400);
    c.warnings('compile', { count: 3 });
    c.tests('test', {
      passed: 10,
      failed: 1,
      skipped: 2,
      todo: 0,
      total: 13,
      failedNames: ['x'],
      failedNamesTruncated: false,
    });
    c.set('artifact.size_bytes', 1_048_576);
    c.buildFinished(80);
    const buildid = (await data.builds.latestForBuilder(builderids[0]!, 1))[0]!.id;
    await c.flush(data.metrics, buildid);
    await c.flush(data.metrics, buildid);
    const stored = await data.metrics.forBuild(buildid);
    assert.equal(stored[stepDuration('compile')], 12.5);
    assert.equal(stored['step:compile:lines'], 3400);
    assert.equal(stored[BUILD_WARNINGS], 3, 'replaces the seeded value');
    assert.equal(stored[stepTests('test', 'failed')], 1);
    assert.equal(stored['tests.total'], 13);
    assert.equal(stored['artifact.size_bytes'], 1_048_576);
    await assert.rejects(data.metrics.record(buildid, { bad: Number.NaN }), InvalidMetricError);
  });
});
