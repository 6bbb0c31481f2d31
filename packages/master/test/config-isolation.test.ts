// Configs that never settle or throw later (config/isolated-evaluation.ts): an await that
// nothing settles, an endless loop, a timer that throws 100 ms after loading. Each one is
// reported by `lathe checkconfig`, refused by Master.start, and refused by a reconfig while
// the running config stays and later reconfigs still work. None of them may reach this
// process: a late throw here would fail the test run, an endless loop would hang it.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../src/config/errors.js';
import { CONFIG_TIME_LIMIT_ENV } from '../src/config/loader.js';
import type { Master } from '../src/master.js';
import { lathe } from './cli-helpers.js';
import { startMaster, tempDir } from './helpers.js';

const latheUrl = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
// Short, so the hanging shapes are cut off quickly, yet room for a loaded machine to load a good
// config; inherited by the `lathe` processes too.
process.env[CONFIG_TIME_LIMIT_ENV] = '10';

function configText(workerName: string, body = ''): string {
  return `import { defineConfig } from '${latheUrl}';
${body}
export default defineConfig({ workerPort: 0, workers: [{ name: '${workerName}', password: 'pw' }] });
`;
}

const BAD: ReadonlyArray<{ name: string; body: string; problem: RegExp }> = [
  {
    name: 'an await that nothing settles',
    body: 'await new Promise(() => {});',
    problem: /never finishes loading: it awaits a promise that nothing can settle/,
  },
  {
    name: 'an await on a timer that outlasts the time limit',
    body: 'await new Promise((r) => setTimeout(r, 3_600_000));',
    problem: /did not finish loading within 10 s/,
  },
  {
    name: 'an endless loop',
    body: 'while (Date.now() > 0) {}',
    problem: /did not finish loading within 10 s: an await that never settles or an endless loop/,
  },
  {
    name: 'a timer that throws 100 ms after loading',
    body: "setTimeout(() => { throw new Error('late boom'); }, 100);",
    problem: /master\.config\.ts:\d+:\d+: after loading, a timer or callback threw: Error: late boom/,
  },
];

describe('configs that never settle or throw later', { timeout: 600_000 }, () => {
  const tmp = tempDir('lathe-config-isolation-');
  after(() => tmp.cleanup());

  describe('lathe checkconfig reports them and exits 1', () => {
    // create-master's config type-checks (it finds @lathe/master); the bad part goes at its end.
    const dir = join(tmp.path, 'check');
    const file = join(dir, 'master.config.ts');
    let good: string;
    before(async () => {
      const created = await lathe(['create-master', dir, '--worker-port', '0']);
      assert.equal(created.code, 0, created.stderr);
      good = readFileSync(file, 'utf8');
    });

    for (const bad of BAD) {
      it(bad.name, async () => {
        writeFileSync(file, `${good}\n${bad.body}\n`);
        const started = Date.now();
        const result = await lathe(['checkconfig', dir]);
        assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
        assert.match(result.stderr, bad.problem);
        assert.match(result.stderr, /master\.config\.ts:\d+(:\d+)?: /, 'names the file');
        assert.ok(Date.now() - started < 60_000);
      });
    }
  });

  describe('Master.start refuses them', () => {
    for (const [i, bad] of BAD.entries()) {
      it(bad.name, async () => {
        const dir = join(tmp.path, `start-${i}`);
        mkdirSync(dir);
        writeFileSync(join(dir, 'master.config.ts'), configText('w1', bad.body));
        await assert.rejects(startMaster({ basedir: dir, name: 'isolation' }), (err) => {
          assert.ok(err instanceof ConfigError, String(err));
          assert.match(err.message, bad.problem);
          return true;
        });
      });
    }
  });

  describe('a reconfig refuses them, keeps the running config, and the next reconfig works', () => {
    const dir = join(tmp.path, 'reconfig');
    const file = join(dir, 'master.config.ts');
    let master: Master;
    before(async () => {
      mkdirSync(dir);
      writeFileSync(file, configText('w1'));
      master = await startMaster({ basedir: dir, name: 'isolation' });
    });
    after(() => master.stop());

    for (const bad of BAD) {
      it(bad.name, async () => {
        const running = master.config;
        writeFileSync(file, configText('w2', bad.body));
        const refused = await master.reconfig();
        assert.ok(!refused.ok, 'refused');
        assert.match(refused.error.message, bad.problem);
        assert.equal(master.config, running, 'the running config stays');
        assert.ok(master.workers.get('w1'));
        // A late throw would surface here, in this process, within this time.
        await new Promise((r) => setTimeout(r, 300));

        writeFileSync(file, configText('w3'));
        const next = await master.reconfig();
        assert.ok(next.ok, next.ok ? '' : next.error.message);
        assert.deepEqual(next.workers.added, ['w3']);
        writeFileSync(file, configText('w1'));
        assert.ok((await master.reconfig()).ok);
      });
    }
  });
});
