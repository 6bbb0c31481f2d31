// Change sources and schedulers without workers: the change dictionary a PB client sends,
// the scheduler rules (filters, important files, per-branch tree-stable timers) on a real
// database, config validation with file:line, and reconfig adding and removing them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { PyFloat } from '@lathe/pb';
import { GitPoller, gitPollerConfig } from '../src/changes/git-poller.js';
import { BadChangeError, changeFromPB } from '../src/changes/pb-change-dict.js';
import { PBUserRegistry } from '../src/changes/pb-users.js';
import { ConfigError } from '../src/config/errors.js';
import { loadConfig } from '../src/config/loader.js';
import type { ChangeRow } from '../src/data/changes.js';
import { ChangeScheduler } from '../src/schedulers/change-scheduler.js';
import { realClock } from '../src/schedulers/clock.js';
import type { ResolvedChangeSchedulerConfig } from '../src/schedulers/config.js';
import { waitFor } from './bbworker.js';
import { openData, startMaster, type TestData, tempDir } from './helpers.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

describe('the PB change dictionary', () => {
  it("takes buildbot sendchange's keys, bytes as UTF-8, and a prefix", () => {
    const change = changeFromPB(
      {
        who: Buffer.from('Zoë'),
        when: new PyFloat(1700000000),
        branch: 'main',
        revision: 'abc',
        files: ['proj/a.c', 'other/b.c', Buffer.from('proj/c.h')],
        properties: { n: 1 },
        revlink: '',
        committer: '',
        src: 'git',
      },
      'proj/',
    );
    assert.deepEqual(change, {
      author: 'Zoë',
      committer: null,
      comments: '',
      branch: 'main',
      revision: 'abc',
      revlink: null,
      category: null,
      repository: '',
      project: '',
      when: 1700000000,
      files: ['a.c', 'c.h'],
      properties: { n: 1 },
    });
  });

  it('refuses what it cannot store, naming the field', () => {
    const refused = (dict: unknown, field: string) =>
      assert.throws(
        () => changeFromPB(dict),
        (e: unknown) => e instanceof BadChangeError && e.field === field,
      );
    refused({ branch: 'main' }, 'who');
    refused({ who: 'a', files: 'a.c' }, 'files');
    refused({ who: 'a', when: 'yesterday' }, 'when');
    refused({ who: 'a', branch: 7 }, 'branch');
    refused({ who: 'a', comments: 'x'.repeat(2 * 1024 * 1024) }, 'comments');
    refused(['who', 'a'], 'change');
  });
});

function schedulerConfig(over: Partial<ResolvedChangeSchedulerConfig>): ResolvedChangeSchedulerConfig {
  return {
    kind: 'SingleBranchScheduler',
    name: 's',
    builderNames: ['b1'],
    filter: {},
    treeStableTimer: null,
    fileIsImportant: null,
    onlyImportant: false,
    properties: {},
    reason: 'test',
    priority: 0,
    cancelOldBuilds: false,
    ...over,
  };
}

describe('change schedulers', () => {
  const dir = tempDir('lathe-schedulers-');
  let n = 0;
  after(() => dir.cleanup());

  it('read a change their master just added as another master reads it from the database', async () => {
    const file = join(dir.path, `s${n++}.sqlite`);
    const here = await openData(file);
    const elsewhere = await openData(file);
    try {
      const id = await here.data.changes.add({
        author: 'ann <ann@example.org>',
        comments: 'fix',
        branch: 'main',
        revision: 'r1',
        files: ['b.c', 'a.c', 'b.c'],
        properties: { n: 1, at: new Date(0), gone: undefined, nested: { list: [1, 'x'] } },
      });
      const kept = await here.data.changes.get(id);
      assert.deepEqual(kept, await elsewhere.data.changes.get(id));
      assert.deepEqual(kept?.files, ['b.c', 'a.c', 'b.c']);
    } finally {
      await here.close();
      await elsewhere.close();
    }
  });

  async function setUp(config: Partial<ResolvedChangeSchedulerConfig>) {
    const t: TestData = await openData(join(dir.path, `s${n++}.sqlite`));
    const builderid = await t.data.builders.findOrCreate('b1');
    const warnings: string[] = [];
    const scheduler = new ChangeScheduler(schedulerConfig(config), {
      data: t.data,
      bus: t.bus,
      builderid: (name) => (name === 'b1' ? builderid : undefined),
      builderProject: () => '',
      cancelRequest: async () => {},
      log: { info: () => {}, warn: (m) => warnings.push(m) },
      clock: realClock,
    });
    await scheduler.start();
    const buildsets: { id: number; branches: (string | null)[] }[] = [];
    t.bus.subscribe('buildset.new', async (m) => {
      const bs = await t.data.buildsets.get(m.payload.buildsetid);
      const branches = [];
      for (const ssid of bs!.sourcestampids) branches.push((await t.data.sourcestamps.get(ssid))!.branch);
      buildsets.push({ id: m.payload.buildsetid, branches });
    });
    const change = async (spec: {
      branch: string;
      revision?: string;
      files?: string[];
      repository?: string;
    }) => {
      const id = await t.data.changes.add({ author: 'a', ...spec });
      await t.bus.idle();
      return id;
    };
    return {
      t,
      change,
      buildsets,
      warnings,
      async close() {
        await scheduler.stop();
        await t.bus.idle();
        await t.close();
      },
    };
  }

  it('builds each matching change at once without a timer, and nothing else', async () => {
    const s = await setUp({ filter: { branch: 'main', repository: /example\.org/ } });
    await s.change({ branch: 'main', repository: 'https://example.org/r.git' });
    await s.change({ branch: 'dev', repository: 'https://example.org/r.git' });
    await s.change({ branch: 'main', repository: 'https://elsewhere/r.git' });
    await s.change({ branch: 'main', repository: 'https://example.org/r.git' });
    assert.deepEqual(
      s.buildsets.map((b) => b.branches),
      [['main'], ['main']],
    );
    const props = await s.t.data.buildsets.properties(s.buildsets[0]!.id);
    assert.deepEqual(props.scheduler, ['s', 'Scheduler']);
    await s.close();
  });

  it('skips changes fileIsImportant rejects, unless an important one comes within the timer', async () => {
    const important = (c: ChangeRow) => c.files.some((f) => f.endsWith('.c'));
    const s = await setUp({ fileIsImportant: important, treeStableTimer: 0.2 });
    await s.change({ branch: 'main', files: ['README'] });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(s.buildsets.length, 0, 'an unimportant change alone builds nothing');
    await s.change({ branch: 'main', revision: 'r1', files: ['a.c'] });
    await s.change({ branch: 'main', revision: 'r2', files: ['docs.md'] });
    await waitFor(() => s.buildsets.length === 1, 5000, 'the buildset');
    const bs = await s.t.data.buildsets.get(s.buildsets[0]!.id);
    // The unimportant change came last within the timer: its stamp is the newest.
    assert.equal((await s.t.data.sourcestamps.get(bs!.sourcestampids[0]!))?.revision, 'r2');
    await s.close();
  });

  it('AnyBranchScheduler keeps a timer per branch; SingleBranchScheduler one for all', async () => {
    const any = await setUp({ kind: 'AnyBranchScheduler', treeStableTimer: 0.3 });
    await any.change({ branch: 'a' });
    await any.change({ branch: 'b' });
    await any.change({ branch: 'a' });
    await waitFor(() => any.buildsets.length === 2, 5000, 'one buildset per branch');
    assert.deepEqual(any.buildsets.map((b) => b.branches).sort(), [['a'], ['b']]);
    await any.close();

    const single = await setUp({ treeStableTimer: 0.3, filter: { branch: ['a', 'b'] } });
    await single.change({ branch: 'a' });
    await single.change({ branch: 'b' });
    await waitFor(() => single.buildsets.length === 1, 5000, 'one buildset');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(single.buildsets.length, 1);
    await single.close();
  });
});

describe('change sources and schedulers in the config', () => {
  const dir = tempDir('lathe-changes-config-');
  after(() => dir.cleanup());
  const configFile = join(dir.path, 'master.config.ts');
  const config = (
    entries: string,
  ) => `import { buildFactory, defineConfig, pbChangeSource, singleBranchScheduler, anyBranchScheduler } from '${lathe}';
const step = { name: 'compile', async run() { return 0 as const; } };
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'b1', workerNames: ['w1'], factory: buildFactory(step) }],
${entries}
});
`;

  it('refuses bad entries with the line that defined them', async () => {
    writeFileSync(
      configFile,
      config(`  changeSources: [
    pbChangeSource({ user: 'w1' }),
  ],
  schedulers: [
    singleBranchScheduler({ name: 'no-branch', builderNames: ['b1'] }),
    singleBranchScheduler({ name: 'bad', branch: 'main', builderNames: ['nope'], treeStableTimer: -1 }),
    anyBranchScheduler({ name: 'bad', builderNames: ['b1'] }),
  ],`),
    );
    const err = await loadConfig(configFile).then(
      () => assert.fail('loaded'),
      (e: unknown) => e as ConfigError,
    );
    assert.ok(err instanceof ConfigError, String(err));
    const found = err.issues.map((i) => `${i.path} @${i.location?.line}: ${i.message}`);
    assert.deepEqual(found, [
      `changeSources["PBChangeSource:w1"].user @7: is also a worker's name; the worker port cannot tell them apart`,
      'schedulers["no-branch"].branch @10: give exactly one of branch (null for the default branch) and changeFilter',
      'schedulers["bad"].builderNames @11: names unknown builder "nope"',
      'schedulers["bad"].treeStableTimer @11: must be a number of seconds (>= 0) or null',
      'schedulers["bad"].name @12: is used by another scheduler',
    ]);
  });

  it('reconfig adds, changes and removes change sources and schedulers', async () => {
    writeFileSync(configFile, config(''));
    const master = await startMaster({ basedir: dir.path, name: 'changes-reconfig' });
    try {
      assert.equal(master.pbUsers.get('change'), undefined);
      writeFileSync(
        configFile,
        config(`  changeSources: [pbChangeSource({ passwd: 'one' })],
  schedulers: [singleBranchScheduler({ name: 's', branch: 'main', builderNames: ['b1'] })],`),
      );
      let r = await master.reconfig();
      assert.ok(r.ok, r.ok ? '' : String(r.error));
      assert.deepEqual([r.changeSources.added, r.schedulers.added], [['PBChangeSource:change'], ['s']]);
      assert.equal(master.pbUsers.get('change')?.password, 'one');

      writeFileSync(
        configFile,
        config(`  changeSources: [pbChangeSource({ passwd: 'two' })],
  schedulers: [singleBranchScheduler({ name: 's', branch: 'dev', builderNames: ['b1'] })],`),
      );
      r = await master.reconfig();
      assert.ok(r.ok);
      assert.deepEqual(
        [r.changeSources.replaced, r.schedulers.reconfigured],
        [['PBChangeSource:change'], ['s']],
      );
      assert.equal(master.pbUsers.get('change')?.password, 'two');
      assert.equal((master.schedulers.get('s') as ChangeScheduler | undefined)?.config.filter.branch, 'dev');

      writeFileSync(configFile, config(''));
      r = await master.reconfig();
      assert.ok(r.ok);
      assert.deepEqual([r.changeSources.removed, r.schedulers.removed], [['PBChangeSource:change'], ['s']]);
      assert.equal(master.pbUsers.get('change'), undefined);
    } finally {
      await master.stop();
    }
  });
});

describe('the git poller', () => {
  const dir = tempDir('lathe-gitpoller-');
  after(() => dir.cleanup());
  const repo = join(dir.path, 'repo');
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repo, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Ann',
        GIT_AUTHOR_EMAIL: 'ann@example.invalid',
        GIT_COMMITTER_NAME: 'Cid',
        GIT_COMMITTER_EMAIL: 'cid@example.invalid',
      },
    }).trim();
  const commit = (file: string, message: string) => {
    writeFileSync(join(repo, file), message);
    git('add', file);
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };

  it('learns the branches on the first poll, then reports each new commit once, oldest first', async () => {
    mkdirSync(repo);
    git('init', '-q', '-b', 'main');
    for (let i = 0; i < 3; i++) commit(`old${i}.txt`, `old ${i}`);
    const t = await openData(join(dir.path, 'poller.sqlite'));
    const poller = newPoller(t);
    await poller.poll();
    assert.deepEqual(await t.data.changes.recent(), [], 'no flood of old commits');

    const c1 = commit('a.c', 'first new\n\nwith a body');
    const c2 = commit('b.c', 'second new');
    git('checkout', '-q', '-b', 'feature');
    const f1 = commit('f.c', 'feature work');
    git('checkout', '-q', 'main');
    await poller.poll();
    const changes = [];
    for (const id of (await t.data.changes.recent()).reverse()) changes.push(await t.data.changes.get(id));
    assert.deepEqual(
      changes.map((c) => [c?.branch, c?.revision, c?.files, c?.comments]),
      [
        ['feature', f1, ['f.c'], 'feature work'],
        ['main', c1, ['a.c'], 'first new\n\nwith a body'],
        ['main', c2, ['b.c'], 'second new'],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
    assert.equal(changes[0]?.author, 'Ann <ann@example.invalid>');
    assert.equal(changes[0]?.committer, 'Cid <cid@example.invalid>');
    assert.equal(changes[0]?.repository, repo);
    assert.equal(changes[0]?.project, 'p');

    await poller.poll();
    assert.equal((await t.data.changes.recent()).length, 3, 'nothing new, nothing reported');
    await t.close();
  });

  it('after a restart reports the commits pushed while the master was down, from the stored heads', async () => {
    const t = await openData(join(dir.path, 'poller.sqlite'));
    const before = (await t.data.changes.recent()).length;
    const d1 = commit('d1.c', 'pushed while down 1');
    const d2 = commit('d2.c', 'pushed while down 2');
    // A new poller, as after a restart: nothing in memory, the database as it was.
    await newPoller(t).poll();
    const ids = (await t.data.changes.recent()).slice(0, 2).reverse();
    const revisions = [];
    for (const id of ids) revisions.push((await t.data.changes.get(id))?.revision);
    assert.equal((await t.data.changes.recent()).length, before + 2);
    assert.deepEqual(revisions, [d1, d2]);
    await t.close();
  });

  function newPoller(t: TestData): GitPoller {
    return new GitPoller(gitPollerConfig({ repourl: repo, branches: true, project: 'p' }), {
      addChange: (c) => t.data.changes.add(c),
      state: t.data.changeSourceState,
      pbUsers: new PBUserRegistry(),
      log: { info: () => {}, warn: () => {} },
      basedir: join(dir.path, 'master'),
    });
  }
});
