// The queries a UI runs most, and the distributor's pending-request queries, checked with
// SQLite's EXPLAIN QUERY PLAN on the exact SQL the data layer sends: a builder's latest
// builds, the builds of a change and a builder's pending requests must be answered from
// indexes, never by scanning a table.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CompiledQuery, Kysely } from 'kysely';
import type { DataLayer } from '../src/data/index.js';
import type { Database } from '../src/db/schema.js';
import { SUCCESS } from '../src/results.js';
import { openRecordedData, tempDir } from './helpers.js';

describe('query plans of the UI’s queries (real SQLite)', () => {
  const dir = tempDir('lathe-plans-');
  const file = join(dir.path, 'plans.sqlite');
  let kysely: Kysely<Database>;
  let data: DataLayer;
  let queries: CompiledQuery[];
  let planOfLast: () => Promise<string[]>;
  let builderid = 0;
  let changeid = 0;

  before(async () => {
    ({ kysely, data, queries, planOfLast } = await openRecordedData(file));
    const { masterid } = await data.masters.register('plans-master');
    const builders = [await data.builders.findOrCreate('a'), await data.builders.findOrCreate('b')];
    builderid = builders[0]!;
    // A few hundred changes, each built once on both builders: enough rows that a scan
    // would be a real choice for the planner.
    for (let i = 0; i < 200; i++) {
      changeid = await data.changes.add({
        author: 'dev',
        revision: `rev-${i}`,
        branch: 'main',
        repository: 'r',
      });
      const change = await data.changes.get(changeid);
      const bs = await data.buildsets.add({
        sourcestampids: [change!.sourcestampid],
        builderids: builders,
        reason: 'change',
      });
      for (const b of builders)
        await data.builds.add({
          builderid: b,
          buildrequestid: bs.buildrequestids.get(b)!,
          workerid: null,
          masterid,
        });
    }
  });

  after(async () => {
    await kysely.destroy();
    dir.cleanup();
  });

  it('BuildsData.latestForBuilder reads the (builderid, number) index backwards, without a sort', async () => {
    queries.length = 0;
    const latest = await data.builds.latestForBuilder(builderid, 5);
    assert.deepEqual(
      latest.map((b) => b.number),
      [200, 199, 198, 197, 196],
    );
    const plan = await planOfLast();
    const text = plan.join(' | ');
    for (const d of plan) assert.doesNotMatch(d, /^SCAN /, `full scan in plan: ${text}`);
    assert.match(text, /SEARCH builds USING INDEX \w+ \(builderid=\?\)/);
    assert.doesNotMatch(text, /TEMP B-TREE/, 'no sort step');
  });

  it('ChangesData.buildIds (builds of a change) follows indexes through every join', async () => {
    queries.length = 0;
    const ids = await data.changes.buildIds(changeid);
    assert.equal(ids.length, 2);
    const plan = await planOfLast();
    const text = plan.join(' | ');
    for (const d of plan) assert.doesNotMatch(d, /^SCAN /, `full scan in plan: ${text}`);
    assert.match(text, /SEARCH changes USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    assert.match(text, /SEARCH buildset_sourcestamps USING (COVERING )?INDEX \w+ \(sourcestampid=\?\)/);
    assert.match(text, /SEARCH buildrequests USING (COVERING )?INDEX \w+ \(buildsetid=\?\)/);
    assert.match(text, /SEARCH builds USING (COVERING )?INDEX \w+ \(buildrequestid=\?\)/);
  });
});

describe('query plans of the distributor’s pending-request queries (real SQLite)', () => {
  const dir = tempDir('lathe-plans-pending-');
  const file = join(dir.path, 'pending.sqlite');
  let kysely: Kysely<Database>;
  let data: DataLayer;
  let queries: CompiledQuery[];
  let builderids: number[] = [];
  /** Every request seeded, with the state it was left in. */
  const seeded: { id: number; builderid: number; priority: number; submittedAt: number; state: string }[] =
    [];

  /** The plan of `q` as sent, or with the table's indexes made unusable (`NOT INDEXED`). */
  async function planOf(q: CompiledQuery, indexed = true): Promise<string> {
    const sql = indexed ? q.sql : q.sql.replace('from "buildrequests"', 'from "buildrequests" not indexed');
    assert.ok(indexed || sql !== q.sql, `no "from buildrequests" in ${q.sql}`);
    const { rows } = await kysely.executeQuery<{ detail: string }>({
      ...q,
      sql: `EXPLAIN QUERY PLAN ${sql}`,
    });
    return rows.map((r) => r.detail).join(' | ');
  }

  /** The one query against buildrequests among those recorded (pendingForBuilder also reads sources). */
  function buildrequestsQuery(): CompiledQuery {
    const qs = queries.filter((q) => /^select .* from "buildrequests"/.test(q.sql));
    assert.equal(qs.length, 1, qs.map((q) => q.sql).join('\n'));
    return qs[0]!;
  }

  function expectIndexed(plan: string): void {
    for (const d of plan.split(' | ')) assert.doesNotMatch(d, /^SCAN /, `full scan in plan: ${plan}`);
    assert.match(
      plan,
      /SEARCH buildrequests USING (COVERING )?INDEX buildrequests_pending \(builderid=\? AND complete=\? AND claimed_by_master=\?\)/,
    );
    // The index's column order is the distributor's order: no sort step either.
    assert.doesNotMatch(plan, /TEMP B-TREE/, `sort step in plan: ${plan}`);
  }

  before(async () => {
    ({ kysely, data, queries } = await openRecordedData(file));
    const { masterid } = await data.masters.register('pending-master');
    builderids = [
      await data.builders.findOrCreate('x'),
      await data.builders.findOrCreate('y'),
      await data.builders.findOrCreate('z'),
    ];
    const changeid = await data.changes.add({
      author: 'dev',
      revision: 'r1',
      branch: 'main',
      repository: 'r',
    });
    const { sourcestampid } = (await data.changes.get(changeid))!;
    // 300 buildsets on all three builders (900 requests), with mixed priorities and ages
    // out of id order; per builder about half end complete, a quarter claimed, a quarter
    // pending, as on a master that has been running a while.
    const toClaim: number[] = [];
    const toComplete: number[] = [];
    for (let i = 0; i < 300; i++) {
      const priority = (i * 7) % 3;
      const submittedAt = 1_700_000_000 + ((i * 37) % 300);
      const bs = await data.buildsets.add({
        sourcestampids: [sourcestampid],
        builderids,
        reason: 'seed',
        priority,
        submittedAt,
      });
      builderids.forEach((builderid, b) => {
        const id = bs.buildrequestids.get(builderid)!;
        const state = ['complete', 'complete', 'claimed', 'pending'][(i + b) % 4]!;
        if (state !== 'pending') toClaim.push(id);
        if (state === 'complete') toComplete.push(id);
        seeded.push({ id, builderid, priority, submittedAt, state });
      });
    }
    await data.buildrequests.claim(toClaim, masterid);
    await data.buildrequests.complete(toComplete, SUCCESS, masterid);
  });

  after(async () => {
    await kysely.destroy();
    dir.cleanup();
  });

  /** What the distributor must get: a builder's pending requests, priority desc, then oldest, then id. */
  function expectedPending(builderid: number): number[] {
    return seeded
      .filter((r) => r.builderid === builderid && r.state === 'pending')
      .sort((a, b) => b.priority - a.priority || a.submittedAt - b.submittedAt || a.id - b.id)
      .map((r) => r.id);
  }

  it('BuildRequestsData.pendingForBuilder pages through the buildrequests_pending index', async () => {
    for (const builderid of builderids) {
      queries.length = 0;
      const page = await data.buildrequests.pendingForBuilder(builderid, 20);
      const expected = expectedPending(builderid);
      assert.equal(expected.length, 75, 'a quarter of the 300 requests of a builder is pending');
      assert.deepEqual(
        page.map((r) => r.id),
        expected.slice(0, 20),
      );
      assert.ok(page.every((r) => r.builderid === builderid && r.sources.length === 1));
      expectIndexed(await planOf(buildrequestsQuery()));
    }
    // Without the index the same query scans the table: the rows make the index matter.
    assert.match(await planOf(buildrequestsQuery(), false), /SCAN buildrequests/);
  });
});
