// Blamelists: the changes since the last passing build of the same builder and branch —
// the build's own (every change a tree-stable scheduler put in its buildset) and those of
// the failing or unfinished builds in between and of requests collapsed or cancelled
// without a build. Bisection builds and other branches'
// builds never end a blamelist. Read through the data layer and the data API, and
// answered from indexes (EXPLAIN QUERY PLAN on the SQL actually sent).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CompiledQuery, Kysely } from 'kysely';
import { DataApi } from '../src/api/data-api.js';
import { BISECT_OF_PROPERTY } from '../src/data/blame.js';
import type { DataLayer } from '../src/data/index.js';
import type { Database } from '../src/db/schema.js';
import { collapseGroup } from '../src/distributor/choose.js';
import { CANCELLED, FAILURE, SKIPPED, SUCCESS, WARNINGS } from '../src/results.js';
import { openData, openRecordedData, tempDir } from './helpers.js';

describe('blamelists', () => {
  const dir = tempDir('lathe-blame-');
  let kysely: Kysely<Database>;
  let data: DataLayer;
  let queries: CompiledQuery[];
  let masterid = 0;
  let app = 0;
  const change: Record<string, number> = {};
  const build: Record<string, number> = {};

  async function addChange(name: string, branch = 'main'): Promise<number> {
    change[name] = await data.changes.add({
      author: `${name}-author`,
      comments: `${name} message`,
      branch,
      revision: `rev-${name}-${Math.random().toString(36).slice(2)}`,
      repository: 'https://example.org/repo.git',
      files: [`src/${name}.c`],
    });
    return change[name]!;
  }

  /** A build of the newest of these changes, as a scheduler makes it; finished unless `results` is null. */
  async function buildOf(
    name: string,
    changes: string[],
    results: number | null,
    properties: Record<string, unknown> = {},
  ): Promise<number> {
    const newest = await data.changes.get(change[changes.at(-1)!]!);
    const bs = await data.buildsets.add({
      sourcestampids: [newest!.sourcestampid],
      builderids: [app],
      reason: name,
      properties,
      changeids: changes.map((c) => change[c]!),
    });
    const brid = bs.buildrequestids.get(app)!;
    await data.buildrequests.claim([brid], masterid);
    const b = await data.builds.add({ builderid: app, buildrequestid: brid, workerid: null, masterid });
    if (results !== null) await data.builds.finish(b.buildid, results as 0);
    build[name] = b.buildid;
    return b.buildid;
  }

  /** A request that ends without a build: collapsed into a later one (SKIPPED) or cancelled. */
  async function unbuilt(changes: string[], results: number): Promise<void> {
    const newest = await data.changes.get(change[changes.at(-1)!]!);
    const bs = await data.buildsets.add({
      sourcestampids: [newest!.sourcestampid],
      builderids: [app],
      changeids: changes.map((c) => change[c]!),
    });
    const brid = bs.buildrequestids.get(app)!;
    await data.buildrequests.claim([brid], masterid);
    await data.buildrequests.complete([brid], results as 0, masterid);
  }

  const blamed = async (name: string) => (await data.blame.blamelist(build[name]!))!.changes.map((c) => c.id);
  const ids = (...names: string[]) => names.map((n) => change[n]!);

  before(async () => {
    ({ kysely, data, queries } = await openRecordedData(join(dir.path, 'blame.sqlite')));
    ({ masterid } = await data.masters.register('blame-master'));
    app = await data.builders.findOrCreate('app');
    // History on another builder and branch, so that a scan would be a real choice.
    const other = await data.builders.findOrCreate('other');
    for (let i = 0; i < 150; i++) {
      const id = await addChange(`h${i}`, i % 2 ? 'main' : 'side');
      const c = await data.changes.get(id);
      const bs = await data.buildsets.add({
        sourcestampids: [c!.sourcestampid],
        builderids: [other, app],
        changeids: [id],
      });
      for (const [b, brid] of bs.buildrequestids) {
        const made = await data.builds.add({ builderid: b, buildrequestid: brid, workerid: null, masterid });
        await data.builds.finish(made.buildid, i % 3 ? SUCCESS : FAILURE);
      }
    }
    for (const n of ['c1', 'c2', 'c3', 'c3b', 'c4', 'c5', 'c6', 'c7']) await addChange(n);
    await addChange('s1', 'side');
    await addChange('s2', 'side');
    await unbuilt(['c1'], SKIPPED);
    await buildOf('pass1', ['c1'], SUCCESS);
    await buildOf('fail2', ['c2', 'c3'], FAILURE);
    // Neither a bisection build that passed nor another branch's pass ends main's blamelist.
    await buildOf('bisect', ['c2'], SUCCESS, { [BISECT_OF_PROPERTY]: build.fail2 });
    await buildOf('side', ['s1'], SUCCESS);
    await unbuilt(['c3b'], SKIPPED);
    await unbuilt(['s2'], CANCELLED);
    await buildOf('running3', ['c4'], null);
    await buildOf('fail4', ['c5'], FAILURE);
    await buildOf('pass5', ['c6'], WARNINGS);
    await buildOf('fail6', ['c7'], FAILURE);
  });

  after(async () => {
    await kysely.destroy();
    dir.cleanup();
  });

  it('lists every change since the last passing build of the same builder and branch', async () => {
    assert.deepEqual(await blamed('fail2'), ids('c2', 'c3'), 'all changes of a tree-stable buildset');
    assert.deepEqual(
      await blamed('fail4'),
      ids('c2', 'c3', 'c3b', 'c4', 'c5'),
      'failing and unfinished builds between, and a request collapsed into a later build; not the other branch’s',
    );
    const list = (await data.blame.blamelist(build.fail4!))!;
    assert.equal(list.since?.buildid, build.pass1);
    assert.deepEqual(list.buildids, [build.fail2, build.running3, build.fail4]);
    assert.deepEqual(await blamed('pass5'), ids('c2', 'c3', 'c3b', 'c4', 'c5', 'c6'));
    assert.deepEqual(await blamed('fail6'), ids('c7'), 'WARNINGS counts as passing');
    assert.deepEqual(await blamed('side'), ids('s1'));
    assert.deepEqual(await blamed('pass1'), ids('c1'), 'the request before the first build counts once');
    assert.deepEqual(await blamed('bisect'), ids('c2'), 'a bisection build blames only what it built');
    assert.equal(await data.blame.blamelist(999_999), undefined);
  });

  it('is served on the data API at /builds/:buildid/blamelist', async () => {
    const api = new DataApi(data);
    const body = await api.get(`/builds/${build.fail4}/blamelist`, {
      field: ['changeid', 'author', 'files'],
    });
    assert.deepEqual(
      (body.changes as { changeid: number }[]).map((c) => c.changeid),
      ids('c2', 'c3', 'c3b', 'c4', 'c5'),
    );
    assert.deepEqual((body.changes as { author: string }[])[0], {
      changeid: change.c2,
      author: 'c2-author',
      files: ['src/c2.c'],
    });
    // Like the other collections under a build: a build that does not exist has none.
    assert.deepEqual((await api.get('/builds/999999/blamelist')).changes, []);
  });

  it('is answered from indexes: one seek for the last pass, one range for the builds since', async () => {
    queries.length = 0;
    await data.blame.blamelist(build.fail4!);
    const plans: string[] = [];
    for (const q of queries.filter((q) => /^select /.test(q.sql))) {
      const { rows } = await kysely.executeQuery<{ detail: string }>({
        ...q,
        sql: `EXPLAIN QUERY PLAN ${q.sql}`,
      });
      const plan = rows.map((r) => r.detail).join(' | ');
      plans.push(plan);
      assert.doesNotMatch(plan, /(^|\| )SCAN /, `a scan: ${plan}\n${q.sql}`);
    }
    const all = plans.join('\n');
    assert.match(
      all,
      /SEARCH blame_builds USING (COVERING )?INDEX blame_builds_passed \(builderid=\? AND branch_key=\? AND passed=\? AND number<\?\)/,
    );
    assert.match(
      all,
      /SEARCH blame_builds USING (COVERING )?INDEX blame_builds_range \(builderid=\? AND branch_key=\? AND number>\? AND number<\?\)/,
    );
    assert.match(
      all,
      /SEARCH buildrequests USING (COVERING )?INDEX buildrequests_builderid \(builderid=\? AND id>\? AND id<\?\)/,
    );
    assert.doesNotMatch(all, /TEMP B-TREE FOR ORDER BY/);
  });
});

describe('bisection requests are never collapsed', () => {
  const dir = tempDir('lathe-bisect-collapse-');
  after(() => dir.cleanup());

  it('neither stand for nor are replaced by ordinary requests of the same source', async () => {
    const t = await openData(join(dir.path, 'collapse.sqlite'));
    try {
      const app = await t.data.builders.findOrCreate('app');
      const changeid = await t.data.changes.add({
        author: 'a',
        branch: 'main',
        revision: 'r1',
        files: ['x.c'],
      });
      const { sourcestampid } = (await t.data.changes.get(changeid))!;
      const add = (properties: Record<string, unknown>) =>
        t.data.buildsets.add({ sourcestampids: [sourcestampid], builderids: [app], properties });
      await add({});
      await add({ [BISECT_OF_PROPERTY]: 1 });
      await add({});
      const [first, bisection, last] = await t.data.buildrequests.pendingForBuilder(app);
      assert.deepEqual(
        [first?.bisection, bisection?.bisection, last?.bisection],
        [undefined, true, undefined],
      );
      // The rule collapses the ordinary two (same source, from changes), leaving the bisection out.
      assert.deepEqual(
        (await collapseGroup(last!, [first!, bisection!, last!], true)).map((r) => r.id),
        [first!.id, last!.id],
      );
      assert.deepEqual(
        (await collapseGroup(bisection!, [first!, bisection!, last!], true)).map((r) => r.id),
        [bisection!.id],
      );
      assert.deepEqual(
        (await collapseGroup(last!, [first!, bisection!, last!], () => true)).map((r) => r.id),
        [first!.id, last!.id],
        'nor by a builder’s own rule',
      );
    } finally {
      await t.close();
    }
  });
});
