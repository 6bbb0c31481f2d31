// A page of changes' builds in one read (what the console reads): /changes/:changeids/builds
// gives for a list of changes what /changes/:changeid/builds gives for each, narrowed by
// builder the same way, and `field=changeids` says which change each build was made for —
// a build of a buildset of two changes' source stamps belongs to both. The same for
// buildsets (the grid): /buildsets/:bsids/builds and `field=buildsetid`. The fields are
// given only when asked for: a read of every field is what it was.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiNotFoundError, DataApi } from '../src/api/data-api.js';
import { MAX_AT_ONCE } from '../src/data/build-links.js';
import { openData, type TestData, tempDir } from './helpers.js';

type Build = { buildid: number; builderid: number; changeids?: number[]; buildsetid?: number };

describe('the builds of several changes in one read', () => {
  const dir = tempDir('lathe-changes-builds-');
  let t: TestData;
  let api: DataApi;
  /** Changes A and B have builds, C none; `shared` was made for A and B together. */
  const id = { a: 0, b: 0, c: 0, builder1: 0, builder2: 0 };
  const build = { a1: 0, a2: 0, b1: 0, shared: 0, forced: 0 };

  before(async () => {
    t = await openData(join(dir.path, 'changes-builds.sqlite'));
    const db = t.db.kysely;
    const { id: masterid } = await db
      .insertInto('masters')
      .values({ name: 'm', active: 1, last_active: 0 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const [builder1, builder2] = await db
      .insertInto('builders')
      .values([
        { name: 'one', tags: '[]' },
        { name: 'two', tags: '[]' },
      ])
      .returning('id')
      .execute();
    id.builder1 = builder1!.id;
    id.builder2 = builder2!.id;
    const stamp = async (hash: string) =>
      (
        await db
          .insertInto('sourcestamps')
          .values({ ss_hash: hash, repository: 'r', codebase: hash, project: '', created_at: 0 })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    const change = async (sourcestampid: number) =>
      (
        await db
          .insertInto('changes')
          .values({
            author: 'a',
            comments: 'c',
            when_timestamp: 0,
            repository: 'r',
            codebase: '',
            project: '',
            sourcestampid,
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    /** A buildset of `stamps` and one finished build on each of `builders`; their ids. */
    const builds = async (stamps: number[], builders: number[]) => {
      const { id: bsid } = await db
        .insertInto('buildsets')
        .values({ submitted_at: 0, complete: 1 })
        .returning('id')
        .executeTakeFirstOrThrow();
      for (const sourcestampid of stamps)
        await db.insertInto('buildset_sourcestamps').values({ buildsetid: bsid, sourcestampid }).execute();
      const ids: number[] = [];
      for (const builderid of builders) {
        const { id: buildrequestid } = await db
          .insertInto('buildrequests')
          .values({ buildsetid: bsid, builderid, priority: 0, submitted_at: 0, complete: 1, waited_for: 0 })
          .returning('id')
          .executeTakeFirstOrThrow();
        const { id: buildid } = await db
          .insertInto('builds')
          .values({
            number: ids.length + bsid * 10,
            builderid,
            buildrequestid,
            masterid,
            started_at: 0,
            complete_at: 1,
            state_string: 'done',
            results: 0,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        ids.push(buildid);
      }
      return ids;
    };
    const [sa, sb, sc, sd] = [await stamp('a'), await stamp('b'), await stamp('c'), await stamp('d')];
    id.a = await change(sa);
    id.b = await change(sb);
    id.c = await change(sc);
    [build.a1, build.a2] = (await builds([sa], [id.builder1, id.builder2])) as [number, number];
    [build.b1] = (await builds([sb], [id.builder1])) as [number];
    [build.shared] = (await builds([sa, sb], [id.builder2])) as [number];
    [build.forced] = (await builds([sd], [id.builder1])) as [number];
    api = new DataApi(t.data);
  });
  after(async () => {
    await t.close();
    dir.cleanup();
  });

  const read = async (path: string, query = '') =>
    ((await api.get(path, new URLSearchParams(query))).builds as Build[]).sort(
      (x, y) => x.buildid - y.buildid,
    );

  it('gives every listed change’s builds once, each with the changes it was made for', async () => {
    const all = await read(`/changes/${id.a},${id.b},${id.c}/builds`, 'field=buildid&field=changeids');
    assert.deepEqual(all, [
      { buildid: build.a1, changeids: [id.a] },
      { buildid: build.a2, changeids: [id.a] },
      { buildid: build.b1, changeids: [id.b] },
      { buildid: build.shared, changeids: [id.a, id.b] },
    ]);
    // The same builds as one read per change.
    const one = async (changeid: number) => (await read(`/changes/${changeid}/builds`)).map((b) => b.buildid);
    assert.deepEqual(
      all.map((b) => b.buildid),
      [...new Set([...(await one(id.a)), ...(await one(id.b)), ...(await one(id.c))])].sort((x, y) => x - y),
    );
    // A change with no builds, or none at all, adds nothing.
    assert.deepEqual(await read(`/changes/${id.c},999999/builds`), []);
  });

  it('narrows to builders the way one change’s read does', async () => {
    const narrowed = await read(
      `/changes/${id.a},${id.b}/builds`,
      `builderid__in=${id.builder1}&field=buildid&field=builderid`,
    );
    assert.deepEqual(narrowed, [
      { buildid: build.a1, builderid: id.builder1 },
      { buildid: build.b1, builderid: id.builder1 },
    ]);
  });

  it('gives changeids only when field= names it, on any path', async () => {
    const [full] = await read(`/builds/${build.shared}`);
    assert.ok(full && !('changeids' in full), 'a read of every field has no changeids');
    assert.ok(full && 'state_string' in full);
    assert.deepEqual(await read(`/builds/${build.forced}`, 'field=changeids'), [{ changeids: [] }]);
    assert.deepEqual(await read(`/builders/${id.builder2}/builds`, 'field=buildid&field=changeids'), [
      { buildid: build.a2, changeids: [id.a] },
      { buildid: build.shared, changeids: [id.a, id.b] },
    ]);
  });

  it('refuses a list that is not ids, or too long', async () => {
    await assert.rejects(read(`/changes/${id.a},x/builds`), ApiNotFoundError);
    // Only the paths that take a list: one build is named by its id alone.
    await assert.rejects(read(`/builds/${build.a1},${build.a2}`), ApiNotFoundError);
    const tooMany = Array.from({ length: MAX_AT_ONCE + 1 }, (_, i) => i + 1).join(',');
    for (const path of [`/changes/${tooMany}/builds`, `/buildsets/${tooMany}/builds`])
      await assert.rejects(read(path), /more than one read names/, path);
  });

  it('gives several buildsets’ builds in one read, each with its buildset when asked', async () => {
    const bsid = async (buildid: number) =>
      (await read(`/builds/${buildid}`, 'field=buildsetid'))[0]?.buildsetid;
    const [setA, setShared] = [await bsid(build.a1), await bsid(build.shared)];
    assert.deepEqual(await read(`/buildsets/${setA},${setShared}/builds`, 'field=buildid&field=buildsetid'), [
      { buildid: build.a1, buildsetid: setA },
      { buildid: build.a2, buildsetid: setA },
      { buildid: build.shared, buildsetid: setShared },
    ]);
    assert.deepEqual(
      await read(`/buildsets/${setA},${setShared}/builds`, `builderid=${id.builder2}&field=buildid`),
      [{ buildid: build.a2 }, { buildid: build.shared }],
    );
    const [full] = await read(`/builds/${build.a1}`);
    assert.ok(full && !('buildsetid' in full), 'a read of every field has no buildsetid');
  });
});
