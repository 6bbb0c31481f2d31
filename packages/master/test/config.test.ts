import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { diffConfigs, fingerprint } from '../src/config/diff.js';
import { ConfigError } from '../src/config/errors.js';
import { loadConfig } from '../src/config/loader.js';
import { DEFAULT_AUTH } from '../src/config/www-auth.js';
import { tempDir } from './helpers.js';

// Configs import Lathe by absolute URL: the temp directory has no node_modules.
const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

const header = `import { defineConfig, defineBuilder, buildFactory } from '${lathe}';\n`;

function write(dir: string, name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, body);
  return file;
}

async function loadError(file: string, options = {}): Promise<ConfigError> {
  try {
    await loadConfig(file, options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err;
  }
  assert.fail('config loaded but should not have');
}

const GOOD = `${header}
const step = { name: 'compile', async run() { return 0 as const; } };

export default defineConfig({
  workers: [
    { name: 'w1', password: 'pw1' },
    { name: 'w2', password: 'pw2', maxBuilds: 2, keepalive: 60 },
  ],
  builders: [
    {
      name: 'linux',
      workerNames: ['w1', 'w2'],
      factory: buildFactory(step),
      tags: ['ci'],
    },
  ],
});
`;

describe('config loading', () => {
  const dir = tempDir('lathe-config-');
  after(() => dir.cleanup());

  it('loads a TypeScript config and fills in defaults', async () => {
    const file = write(dir.path, 'good.config.ts', GOOD);
    const { config } = await loadConfig(file);
    assert.deepEqual(config.workerPort, { port: 9989, host: null });
    assert.equal(config.dbUrl, 'sqlite:state.sqlite');
    assert.deepEqual(
      config.workers.map((w) => [w.name, w.maxBuilds, w.keepalive]),
      [
        ['w1', null, 3600],
        ['w2', 2, 60],
      ],
    );
    assert.equal(config.builders[0]?.collapseRequests, true);
    assert.equal(config.builders[0]?.priority, 0);
    assert.deepEqual(config.builders[0]?.tags, ['ci']);
    assert.equal(config.buildbotURL, 'http://localhost:8010/');
  });

  it('takes buildbotURL as an absolute http(s) URL ending with a slash, as Buildbot does', async () => {
    const withUrl = (url: string) =>
      GOOD.replace('workers: [', `buildbotURL: ${JSON.stringify(url)},\n  workers: [`);
    const good = write(dir.path, 'url.config.ts', withUrl('https://ci.example.org/lathe/'));
    assert.equal((await loadConfig(good)).config.buildbotURL, 'https://ci.example.org/lathe/');
    for (const [url, problem] of [
      ['https://ci.example.org', "must end with '/'"],
      ['ci.example.org/', 'must be an absolute URL'],
      ['ftp://ci.example.org/', 'must be an http or https URL'],
    ]) {
      const err = await loadError(write(dir.path, 'bad-url.config.ts', withUrl(url!)));
      assert.deepEqual(
        err.issues.map((i) => [i.path, i.message.startsWith(problem!)]),
        [['buildbotURL', true]],
        err.message,
      );
    }
  });

  it('serves the data API only with www, takes its port, host and baseURL and refuses anything else', async () => {
    const withWww = (www: string) => GOOD.replace('workers: [', `www: ${www},\n  workers: [`);
    assert.equal((await loadConfig(write(dir.path, 'no-www.config.ts', GOOD))).config.www, null);
    const defaults = await loadConfig(write(dir.path, 'www.config.ts', withWww('{}')));
    const { auth, ...served } = defaults.config.www!;
    assert.deepEqual(served, { port: 8010, host: '127.0.0.1', baseURL: 'http://localhost:8010/' });
    assert.equal(auth, DEFAULT_AUTH, 'anonymous reads, nobody acts');
    const set = await loadConfig(
      write(
        dir.path,
        'www-set.config.ts',
        withWww("{ port: 'tcp:9000:interface=0.0.0.0', baseURL: 'https://ci.example.org/' }"),
      ),
    );
    assert.deepEqual(
      { ...set.config.www, auth: undefined },
      { port: 9000, host: '0.0.0.0', baseURL: 'https://ci.example.org/', auth: undefined },
    );
    for (const [www, path] of [
      ["{ port: 8010, auth: 'none' }", 'www.auth'],
      ['{ port: 70000 }', 'www.port'],
      ["{ port: 'eighty' }", 'www.port'],
      ["{ host: '' }", 'www.host'],
      ["{ baseURL: 'ci.example.org' }", 'www.baseURL'],
      ['8010', 'www'],
    ]) {
      const err = await loadError(write(dir.path, 'bad-www.config.ts', withWww(www!)));
      assert.deepEqual(
        err.issues.map((i) => i.path),
        [path],
        err.message,
      );
    }
  });

  it('reports a syntax error with file and line', async () => {
    const file = write(
      dir.path,
      'syntax.config.ts',
      `${header}\nexport default defineConfig({\n  workers: [,,\n  builders: [],\n});\n`,
    );
    const err = await loadError(file);
    assert.equal(err.issues.length, 1);
    assert.match(err.issues[0]!.message, /^syntax error/);
    assert.equal(err.issues[0]!.location?.file, file);
    assert.ok([3, 4, 5].includes(err.issues[0]!.location!.line), `line ${err.issues[0]!.location?.line}`);
    assert.match(err.message, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d`));
  });

  it("strips the config's types in a child process, never loading Node's TypeScript parser here", async () => {
    const helper = write(dir.path, 'helper.ts', `export const jobs: number = 3;\n`);
    const file = write(
      dir.path,
      'stripped.config.ts',
      `${header}import { jobs } from './${'helper.ts'}';\ninterface Extra { readonly tag: string }\nconst extra: Extra = { tag: 't' + jobs };\nexport default defineConfig({ workers: [{ name: extra.tag, password: 'pw' as string }] });\n`,
    );
    const { config } = await loadConfig(file);
    assert.deepEqual(
      config.workers.map((w) => w.name),
      ['t3'],
    );
    assert.ok(helper.endsWith('helper.ts'));
    // amaro is Node's bundled swc (WebAssembly): ~18 MB resident once loaded.
    const { moduleLoadList } = process as unknown as { moduleLoadList: string[] };
    const loaded = moduleLoadList.filter((m) => m.includes('amaro'));
    assert.deepEqual(loaded, [], 'the TypeScript parser was loaded in this process');
  });

  it('reports TypeScript-only syntax that cannot be stripped with file and line', async () => {
    const file = write(
      dir.path,
      'enum.config.ts',
      `${header}\nenum Mode { A }\nexport default defineConfig({ workers: [] });\n`,
    );
    const err = await loadError(file);
    assert.match(
      err.issues[0]!.message,
      /^syntax error: TypeScript enum is not supported in strip-only mode/,
    );
    assert.equal(err.issues[0]!.location?.file, file);
    assert.equal(err.issues[0]!.location?.line, 3);
  });

  it('reports an exception thrown while the config runs at the throwing line', async () => {
    const file = write(
      dir.path,
      'throws.config.ts',
      `${header}\nfunction secret(): string {\n  throw new Error('no vault token');\n}\nexport default defineConfig({ workers: [{ name: 'w', password: secret() }] });\n`,
    );
    const err = await loadError(file);
    assert.equal(err.issues[0]!.message, 'Error: no vault token');
    assert.equal(err.issues[0]!.location?.file, file);
    assert.equal(err.issues[0]!.location?.line, 4);
  });

  it('reports a missing import at the import line', async () => {
    const file = write(
      dir.path,
      'missing.config.ts',
      `${header}import { x } from './nowhere.ts';\nexport default defineConfig({ workers: [] , title: x });\n`,
    );
    const err = await loadError(file);
    assert.match(err.issues[0]!.message, /nowhere\.ts.*cannot be found/);
    assert.equal(err.issues[0]!.location?.line, 2);
  });

  it('names the entry, the field and its line for validation problems, all at once', async () => {
    const file = write(
      dir.path,
      'invalid.config.ts',
      `${header}
const step = { name: 'compile', async run() { return 0 as const; } };
export default defineConfig({
  workerPort: 'udp:1',
  workers: [
    { name: 'w1', password: 'pw' },
    {
      name: 'w2',
      password: 'pw',
      maxBuilds: 0,
    },
    { name: 'w1', password: 'again' },
  ],
  builders: [
    {
      name: 'linux',
      factory: buildFactory(step),
      workerNames: ['w1', 'w9'],
    },
    { name: 'mac', workerNames: ['w2'], factory: buildFactory(step), wokerNames: [] },
  ],
});
`,
    );
    const err = await loadError(file);
    const got = err.issues.map((i) => `${i.location?.line} ${i.path}: ${i.message}`);
    assert.deepEqual(got, [
      '5 workerPort: expected a port number or "tcp:<port>[:interface=<address>]", got "udp:1"',
      '11 workers["w2"].maxBuilds: must be a positive integer, got 0',
      '13 workers["w1"].name: is used by another worker',
      '19 builders["linux"].workerNames: names unknown worker "w9"',
      '21 builders["mac"].wokerNames: unknown field',
    ]);
    assert.ok(err.issues.every((i) => i.location?.file === file));
  });

  it('points at the exact defineBuilder call for generated builders', async () => {
    const file = write(
      dir.path,
      'generated.config.ts',
      `${header}
const step = { name: 'compile', async run() { return 0 as const; } };
const platforms = ['linux', 'mac'];
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw' }],
  builders: platforms.map((p) =>
    defineBuilder({ name: p, workerNames: [p === 'mac' ? 'w-mac' : 'w1'], factory: buildFactory(step) }),
  ),
});
`,
    );
    const err = await loadError(file);
    assert.equal(err.issues.length, 1);
    assert.equal(err.issues[0]!.path, 'builders["mac"].workerNames');
    assert.equal(err.issues[0]!.location?.line, 8);
  });

  it('type-checks the config with tsc when asked', async () => {
    const file = write(
      dir.path,
      'typed.config.ts',
      `const port: number = 'nine';\nexport default { workers: [], workerPort: port };\n`,
    );
    const err = await loadError(file, { typecheck: true });
    assert.equal(err.issues[0]!.location?.line, 1);
    assert.match(err.issues[0]!.message, /TS2322/);
  });

  it('re-reads the config and the files it imports on every load', async () => {
    const helper = join(dir.path, 'workers.ts');
    writeFileSync(helper, `export const names = ['a'];\n`);
    const file = write(
      dir.path,
      'reload.config.ts',
      `${header}import { names } from './workers.ts';\nexport default defineConfig({ workers: names.map((name) => ({ name, password: 'pw' })) });\n`,
    );
    assert.deepEqual(
      (await loadConfig(file)).config.workers.map((w) => w.name),
      ['a'],
    );
    writeFileSync(helper, `export const names = ['a', 'b'];\n`);
    assert.deepEqual(
      (await loadConfig(file)).config.workers.map((w) => w.name),
      ['a', 'b'],
    );
  });
});

describe('config diffs', () => {
  const dir = tempDir('lathe-diff-');
  after(() => dir.cleanup());

  it('sees added, changed, removed and unchanged entries across a reload', async () => {
    const file = join(dir.path, 'm.config.ts');
    writeFileSync(file, GOOD);
    const before = (await loadConfig(file)).config;
    // Reloading the same text yields new objects and functions but no changes.
    const same = diffConfigs(before, (await loadConfig(file)).config);
    assert.deepEqual(same.workers.unchanged, ['w1', 'w2']);
    assert.deepEqual(same.builders.unchanged, ['linux']);
    assert.equal(same.workers.changed.length + same.builders.changed.length, 0);
    assert.deepEqual(same.settings, []);

    writeFileSync(
      file,
      GOOD.replace("{ name: 'w1', password: 'pw1' },", "{ name: 'w3', password: 'pw3' },")
        .replace("workerNames: ['w1', 'w2']", "workerNames: ['w3', 'w2']")
        .replace('maxBuilds: 2', 'maxBuilds: 4')
        .replace('return 0 as const', 'return 2 as const')
        .replace('builders: [', 'workerPort: 9000,\n  builders: ['),
    );
    const diff = diffConfigs(before, (await loadConfig(file)).config);
    assert.deepEqual(
      diff.workers.added.map((w) => w.name),
      ['w3'],
    );
    assert.deepEqual(
      diff.workers.removed.map((w) => w.name),
      ['w1'],
    );
    assert.deepEqual(
      diff.workers.changed.map((c) => [c.name, c.old.maxBuilds, c.new.maxBuilds]),
      [['w2', 2, 4]],
    );
    // A change inside a step's code changes the builder.
    assert.deepEqual(
      diff.builders.changed.map((c) => c.name),
      ['linux'],
    );
    assert.deepEqual(diff.settings, ['workerPort']);
  });

  it('fingerprints functions by source and objects by content', () => {
    assert.equal(fingerprint({ a: 1, f: () => 1 }), fingerprint({ f: () => 1, a: 1 }));
    assert.notEqual(fingerprint({ f: () => 1 }), fingerprint({ f: () => 2 }));
    class A {
      constructor(readonly x: number) {}
    }
    assert.equal(fingerprint(new A(1)), fingerprint(new A(1)));
    assert.notEqual(fingerprint(new A(1)), fingerprint(new A(2)));
    assert.notEqual(fingerprint(new A(1)), fingerprint({ x: 1 }));
  });
});
