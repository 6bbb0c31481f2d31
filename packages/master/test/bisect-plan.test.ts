// The two pure parts of bisection: ranking suspects against the failing output, and the
// search plan that finds the first bad change within ⌈log₂ n⌉ + 1 builds, suspects first;
// and the builder option that turns it on.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { BisectPlan, bisectBudget } from '../src/bisect/plan.js';
import { mentions, rankSuspects } from '../src/bisect/rank.js';
import { ConfigError } from '../src/config/errors.js';
import { loadConfig } from '../src/config/loader.js';
import { tempDir } from './helpers.js';

/** Runs a plan against a tree whose first bad position is `culprit`; the positions built. */
function search(n: number, culprit: number, suspects: number[]): { found: number | null; built: number[] } {
  const plan = new BisectPlan(n, suspects);
  const built: number[] = [];
  for (let p = plan.next(); p !== null; p = plan.next()) {
    built.push(p);
    plan.record(p, p < culprit);
  }
  return { found: plan.firstBad, built };
}

describe('the bisection search plan', () => {
  it('has a budget of ⌈log₂ n⌉ + 1 builds', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 8, 9, 16, 17].map(bisectBudget), [0, 2, 3, 3, 4, 4, 5, 5, 6]);
  });

  it('finds every culprit, with any suspects, within the budget; without suspects within ⌈log₂ n⌉', () => {
    for (let n = 1; n <= 33; n++) {
      const log = n <= 1 ? 0 : Math.ceil(Math.log2(n));
      for (let culprit = 1; culprit <= n; culprit++) {
        const plain = search(n, culprit, []);
        assert.equal(plain.found, culprit, `n=${n} culprit=${culprit}`);
        assert.ok(plain.built.length <= log, `n=${n} culprit=${culprit}: ${plain.built}`);
        for (let s = 1; s <= n; s++) {
          for (const suspects of [[s], [s, culprit], [s, n + 1 - s]]) {
            const r = search(n, culprit, suspects);
            assert.equal(r.found, culprit, `n=${n} culprit=${culprit} suspects=${suspects}`);
            assert.ok(
              r.built.length <= log + 1,
              `n=${n} culprit=${culprit} suspects=${suspects}: ${r.built}`,
            );
            assert.equal(new Set(r.built).size, r.built.length, 'no position built twice');
          }
        }
      }
    }
  });

  it('confirms a right top suspect with two builds: it is bad, the change before it good', () => {
    assert.deepEqual(search(8, 5, [5]).built, [5, 4]);
    assert.deepEqual(
      search(8, 8, [8]).built,
      [7],
      'the newest change: the failing build already says it is bad',
    );
    assert.deepEqual(
      search(8, 1, [1]).built,
      [1],
      'the oldest: the last passing build already says the base is good',
    );
    // A wrong suspect costs one build, then halving takes over: the whole budget at worst.
    assert.deepEqual(search(8, 2, [6]).built, [6, 3, 1, 2]);
  });

  it('builds nothing for a single change and refuses positions outside the open range', () => {
    assert.deepEqual(search(1, 1, [1]), { found: 1, built: [] });
    const plan = new BisectPlan(8, []);
    assert.throws(() => plan.record(8, false), RangeError);
    assert.throws(() => plan.record(0, true), RangeError);
    assert.throws(() => new BisectPlan(0, []), RangeError);
  });
});

describe('ranking suspects', () => {
  const changes = [
    { id: 1, revision: 'a1', author: 'ann', files: ['src/util.c', 'README'] },
    { id: 2, revision: 'b2', author: 'bob', files: ['src/parse.c', 'src/parse.h'] },
    { id: 3, revision: 'c3', author: 'cid', files: ['docs/index.md'] },
    { id: 4, revision: 'd4', author: 'dee', files: ['lib/parse.c'] },
  ];

  it('ranks the changes whose files the output names, most named files first, newer first among equals', () => {
    const output = [
      'gcc -c src/parse.c',
      'In file included from src/parse.c:1:',
      './parse.h:3:1: error: expected declaration',
      'make: *** [Makefile:4: all] Error 1',
    ].join('\n');
    const ranked = rankSuspects(changes, output);
    assert.deepEqual(
      ranked.map((s) => [s.changeid, s.score, s.files]),
      [
        [2, 2, ['src/parse.c', 'src/parse.h']],
        // lib/parse.c is named only by file name ("parse.c" in src/parse.c's line).
        [4, 1, ['lib/parse.c']],
      ],
    );
    assert.equal(ranked[0]!.author, 'bob');
    assert.deepEqual(rankSuspects(changes, 'all tests passed'), []);
  });

  it('matches whole names only', () => {
    assert.ok(mentions('error in src/util.c line 3', 'src/util.c'));
    assert.ok(mentions('util.c:3: error', 'src/util.c'));
    assert.ok(!mentions('util.cpp:3: error', 'src/util.c'));
    assert.ok(!mentions('myutil.c:3: error', 'src/util.c'));
    assert.ok(!mentions('anything', ''));
  });
});

describe('the bisect builder option', () => {
  const dir = tempDir('lathe-bisect-config-');
  after(() => dir.cleanup());
  const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
  const configWith = (bisect: string) => {
    const file = join(dir.path, `bisect-${bisect.replace(/\W/g, '')}.config.ts`);
    writeFileSync(
      file,
      `import { buildFactory, defineConfig } from '${lathe}';
const step = { name: 'test', async run() { return 0 as const; } };
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'app', workerNames: ['w1'], factory: buildFactory(step), bisect: ${bisect} }],
});
`,
    );
    return file;
  };

  it('is kept when true or false and refused otherwise, naming the field', async () => {
    assert.equal((await loadConfig(configWith('true'))).config.builders[0]?.bisect, true);
    await assert.rejects(
      loadConfig(configWith("'yes'")),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.issues.some(
          (i) => i.path === 'builders["app"].bisect' && /must be true or false/.test(i.message),
        ),
    );
  });
});
