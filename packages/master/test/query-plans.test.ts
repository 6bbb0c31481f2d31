// The queries a UI runs most, checked with SQLite's EXPLAIN QUERY PLAN on the exact SQL
// the data layer sends: a builder's latest builds and the builds of a change must be
// answered from indexes, never by scanning a table.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CompiledQuery, Kysely } from 'kysely';
import type { DataLayer } from '../src/data/index.js';
import type { Database } from '../src/db/schema.js';
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
