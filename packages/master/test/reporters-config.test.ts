// The config's `reporters`: entries attach generators to any object implementing Reporter
// (here a class written in the config itself); mistakes are reported with file and line;
// a reconfig adds and removes reporters, and a reporter that comes back resumes from its
// durable cursor.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DataApi } from '../src/api/data-api.js';
import { ConfigError } from '../src/config/errors.js';
import { loadConfig } from '../src/config/loader.js';
import { FAILURE } from '../src/results.js';
import { waitFor } from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';
import { recordBuild } from './report-history.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

/** A config with `entries` as its reporters; `Collect` keeps what it is given in globalThis.reports. */
function config(entries: string): string {
  return `import { buildStatusGenerator, buildFactory, workerMissingGenerator, type Report, type Reporter } from '${lathe}';
class Collect implements Reporter {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
  async deliver(report: Report) {
    const g = globalThis as { reports?: string[] };
    (g.reports ??= []).push(\`\${this.name} \${report.kind} \${report.key}\`);
  }
}
const step = { name: 'compile', async run() { return 0 as const; } };
export default {
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'app', workerNames: ['w1'], factory: buildFactory(step) }],
  reporters: [
${entries}
  ],
};
`;
}

const reports = () => ((globalThis as { reports?: string[] }).reports ??= []);

describe('reporters in the config', () => {
  const dir = tempDir('lathe-reporters-config-');
  after(() => dir.cleanup());

  it('refuses bad entries, each with its line', async () => {
    const file = join(dir.path, 'bad.config.ts');
    writeFileSync(
      file,
      config(`    { reporter: { name: 'nodeliver' }, generators: [buildStatusGenerator()] },
    { reporter: new Collect('a'), generators: [] },
    { reporter: new Collect('b'), generators: [buildStatusGenerator({ mode: 'sometimes', builders: ['nope'] })] },
    { reporter: new Collect('b'), generators: [workerMissingGenerator()] },
    { reporter: new Collect('c'), generators: [workerMissingGenerator()], retry: { initialDelayMs: -1 }, extra: 1 },`),
    );
    const err = await loadConfig(file).then(
      () => assert.fail('loaded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConfigError, String(err));
    const got = err.issues.map((i) => `${i.location?.line}: ${i.path}: ${i.message}`);
    const expect = [
      /^17: reporters\["nodeliver"\]\.reporter: must be a reporter/,
      /^18: reporters\["a"\]\.generators: must list at least one generator/,
      /^19: reporters\["b"\]\.generators: generators\[0\] \(buildStatus\): unknown mode "sometimes"/,
      /^19: reporters\["b"\]\.generators: generators\[0\] \(buildStatus\): builders names unknown builder "nope"/,
      /^20: reporters\["b"\]\.reporter: name "b" is used by another reporter/,
      /^21: reporters\["c"\]\.extra: unknown field/,
      /^21: reporters\["c"\]\.retry: initialDelayMs must be a positive number/,
    ];
    assert.equal(got.length, expect.length, got.join('\n'));
    for (const [i, re] of expect.entries()) assert.match(got[i]!, re, got.join('\n'));
  });

  it('adds and removes reporters on reconfig; one that returns resumes from its cursor', async () => {
    const basedir = join(dir.path, 'master');
    const file = join(basedir, 'master.config.ts');
    const one = `    { reporter: new Collect('one'), generators: [buildStatusGenerator({ mode: 'failing' })] },`;
    const two = `    { reporter: new Collect('two'), generators: [buildStatusGenerator({ mode: 'failing' })] },`;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(basedir);
    writeFileSync(file, config(one));
    const master = await startMaster({ basedir, name: 'reporters-config', onError: () => {} });
    try {
      const build = async () =>
        (await recordBuild(master.data, master.masterid, { builder: 'app', author: 'a', results: FAILURE }))
          .buildid;
      const idle = () => Promise.all(master.reporters.runners.map((r) => r.idle()));
      await build();
      await waitFor(() => reports().length === 1, 10_000, 'the first report');

      writeFileSync(file, config(two));
      assert.equal((await master.reconfig()).ok, true);
      assert.deepEqual(
        master.reporters.runners.map((r) => r.name),
        ['two'],
      );
      await build();
      await idle();
      // The data API reads the state from the database: 'one', removed, kept its cursor, and
      // the build's start, finish and buildset completion wait for it.
      const body = await new DataApi(master.data).get('/reporters', { order: 'name' });
      assert.deepEqual(
        (body.reporters as Record<string, unknown>[]).map((r) => [r.name, r.backlog]),
        [
          ['one', 3],
          ['two', 0],
        ],
      );

      writeFileSync(file, config(`${one}\n${two}`));
      assert.equal((await master.reconfig()).ok, true);
      await idle();
      const kinds = reports().map((r) => r.split(' ', 2).join(' '));
      // 'two' starts with builds after it was added; 'one' gets the build made while it was away.
      assert.deepEqual(kinds, ['one build-finished', 'two build-finished', 'one build-finished']);
      const status = await master.reporters.status();
      assert.deepEqual(
        status.map((s) => [s.name, s.backlog, s.delivered]),
        [
          ['one', 0, 2],
          ['two', 0, 1],
        ],
      );
    } finally {
      await master.stop();
    }
  });
});
