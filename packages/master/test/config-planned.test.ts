// Buildbot settings for parts Lathe does not have yet (reporters) are refused wherever a
// config is read — `lathe checkconfig`, start, reconfig — with the file, the line and what
// to do instead; never accepted and silently ignored.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkConfig } from '../src/commands.js';
import { ConfigError } from '../src/config/errors.js';
import { Master } from '../src/master.js';
import { escapeRe, lathe } from './cli-helpers.js';
import { tempDir } from './helpers.js';

const PLANNED: readonly [key: string, line: string, reason: RegExp][] = [
  ['reporters', "  reporters: [{ kind: 'mail' }],", /reporters are not implemented yet \(planned\)/],
];

/** No defineConfig: only validation stands between this config and a master. */
const untyped = (settings: string) => `import { buildFactory } from '@lathe/master';
const step = { name: 'compile', async run() { return 0 as const; } };
export default {
${settings}
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'linux', workerNames: ['w1'], factory: buildFactory(step) }],
};
`;
const ALL_PLANNED = PLANNED.map(([, line]) => line).join('\n');

/** The issues of untyped(ALL_PLANNED), one a line from line 4. */
function assertRefused(err: unknown, file: string): true {
  assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
  assert.deepEqual(
    err.issues.map((i) => [i.location?.file, i.location?.line, i.path]),
    PLANNED.map(([key], n) => [file, 4 + n, key]),
  );
  for (const [n, issue] of err.issues.entries()) assert.match(issue.message, PLANNED[n]![2]);
  return true;
}

describe('settings for parts that do not exist yet', () => {
  const tmp = tempDir('lathe-planned-');
  // A master directory from create-master, where configs resolve '@lathe/master'.
  const dir = join(tmp.path, 'master');
  const configFile = join(dir, 'master.config.ts');
  after(() => tmp.cleanup());
  before(async () => {
    const created = await lathe(['create-master', dir, '--worker-port', '0']);
    assert.equal(created.code, 0, created.stderr);
  });

  it('lathe checkconfig refuses each in a typed config: the type check fails, saying why', async () => {
    const generated = readFileSync(configFile, 'utf8');
    const lines = generated.split('\n');
    const at = lines.findIndex((l) => l.includes('defineConfig({')) + 1;
    const files = PLANNED.map(([key, line]) => {
      const file = join(dir, `${key}.config.ts`);
      writeFileSync(file, [...lines.slice(0, at), line, ...lines.slice(at)].join('\n'));
      return file;
    });
    const results = await Promise.all(files.map((f) => checkConfig(dir, f)));
    results.forEach((r, n) => {
      const [key, , reason] = PLANNED[n]!;
      assert.equal(r.ok, false, key);
      if (r.ok) return;
      assert.equal(r.problems.length, 1, r.problems.join('\n'));
      assert.match(r.problems[0]!, new RegExp(`^${escapeRe(files[n]!)}:${at + 1}:\\d+: type error TS2322: `));
      assert.match(r.problems[0]!, reason);
    });
  });

  it('lathe checkconfig, start and reconfig refuse them in an untyped config, each with file and line', async () => {
    writeFileSync(configFile, untyped(ALL_PLANNED));
    const checked = await lathe(['checkconfig', dir]);
    assert.equal(checked.code, 1);
    PLANNED.forEach(([key, , reason], n) => {
      const line = checked.stderr.split('\n').find((l) => l.startsWith(`${configFile}:${4 + n}: ${key}: `));
      assert.ok(line, `${key} at line ${4 + n} in:\n${checked.stderr}`);
      assert.match(line, reason);
    });

    await assert.rejects(Master.start({ basedir: dir, name: 'planned' }), (err) =>
      assertRefused(err, configFile),
    );

    writeFileSync(configFile, untyped(''));
    const master = await Master.start({ basedir: dir, name: 'planned' });
    try {
      const running = master.config;
      writeFileSync(configFile, untyped(ALL_PLANNED));
      const r = await master.reconfig();
      assert.equal(r.ok, false);
      if (!r.ok) assertRefused(r.error, configFile);
      assert.equal(master.config, running, 'the running config stays');
    } finally {
      await master.stop();
    }
  });
});
