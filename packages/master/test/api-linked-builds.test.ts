// A change's and a buildset's builds narrowed to some builders (what the console and the
// grid read for the builders they show): the narrowing happens before the cut at
// MAX_LINKED_BUILDS, so a builder past the first 500 still gets its build.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataApi } from '../src/api/data-api.js';
import { MAX_LINKED_BUILDS } from '../src/data/build-links.js';
import { openData, type TestData, tempDir } from './helpers.js';

const BUILDERS = MAX_LINKED_BUILDS + 100;

describe('builds of a change or buildset, narrowed to builders', () => {
  const dir = tempDir('lathe-linked-builds-');
  let t: TestData;
  let api: DataApi;
  let changeid: number;
  let bsid: number;
  /** The builder whose build comes last in index order: past the cut. */
  let lastBuilder: number;

  before(async () => {
    t = await openData(join(dir.path, 'linked.sqlite'));
    const db = t.db.kysely;
    const { id: masterid } = await db
      .insertInto('masters')
      .values({ name: 'm', active: 1, last_active: 0 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const { id: ssid } = await db
      .insertInto('sourcestamps')
      .values({ ss_hash: 'h', repository: 'r', codebase: '', project: '', created_at: 0 })
      .returning('id')
      .executeTakeFirstOrThrow();
    ({ id: changeid } = await db
      .insertInto('changes')
      .values({
        author: 'a',
        comments: 'c',
        when_timestamp: 0,
        repository: 'r',
        codebase: '',
        project: '',
        sourcestampid: ssid,
      })
      .returning('id')
      .executeTakeFirstOrThrow());
    ({ id: bsid } = await db
      .insertInto('buildsets')
      .values({ submitted_at: 0, complete: 1 })
      .returning('id')
      .executeTakeFirstOrThrow());
    await db.insertInto('buildset_sourcestamps').values({ buildsetid: bsid, sourcestampid: ssid }).execute();
    const builders = await db
      .insertInto('builders')
      .values(Array.from({ length: BUILDERS }, (_, i) => ({ name: `b${i}`, tags: '[]' })))
      .returning('id')
      .execute();
    const requests = await db
      .insertInto('buildrequests')
      .values(
        builders.map((b) => ({
          buildsetid: bsid,
          builderid: b.id,
          priority: 0,
          submitted_at: 0,
          complete: 1,
          waited_for: 0,
        })),
      )
      .returning(['id', 'builderid'])
      .execute();
    await db
      .insertInto('builds')
      .values(
        requests.map((r) => ({
          number: 1,
          builderid: r.builderid,
          buildrequestid: r.id,
          masterid,
          started_at: 0,
          complete_at: 1,
          state_string: 'done',
          results: 0,
        })),
      )
      .execute();
    lastBuilder = builders.at(-1)!.id;
    api = new DataApi(t.data);
  });
  after(async () => {
    await t.close();
    dir.cleanup();
  });

  const builderidsOf = async (path: string, query: string) => {
    const { builds } = await api.get(path, new URLSearchParams(query));
    return (builds as Record<string, unknown>[]).map((b) => b.builderid as number).sort((a, b) => a - b);
  };

  it('gives a builder past the cut its build of the change and of the buildset', async () => {
    // Unnarrowed, the answer is cut at MAX_LINKED_BUILDS and leaves the last builder out.
    const all = await builderidsOf(`/changes/${changeid}/builds`, '');
    assert.equal(all.length, MAX_LINKED_BUILDS);
    assert.ok(!all.includes(lastBuilder));
    for (const path of [`/changes/${changeid}/builds`, `/buildsets/${bsid}/builds`]) {
      assert.deepEqual(await builderidsOf(path, `builderid__in=${lastBuilder}&builderid__in=1`), [
        1,
        lastBuilder,
      ]);
      assert.deepEqual(await builderidsOf(path, `builderid=${lastBuilder}`), [lastBuilder], path);
    }
  });
});
