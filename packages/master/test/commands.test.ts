import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkConfig, upgradeMaster } from '../src/commands.js';
import { MIGRATIONS, tempDir } from './helpers.js';
import { TEST_DB, testDatabaseUrl } from './test-database.js';

describe('offline commands', () => {
  const dir = tempDir('lathe-commands-');
  after(() => dir.cleanup());

  it('checkconfig reports every problem as file:line, and accepts a good config', async () => {
    const file = join(dir.path, 'master.config.ts');
    writeFileSync(
      file,
      `const maxBuilds: number = 0;\nexport default { workers: [{ name: 'w', password: 'pw', maxBuilds }] };\n`,
    );
    const bad = await checkConfig(dir.path);
    assert.equal(bad.ok, false);
    if (!bad.ok)
      assert.deepEqual(bad.problems, [
        `${file}:2: workers["w"].maxBuilds: must be a positive integer, got 0`,
      ]);

    writeFileSync(file, `const port: number = 'x';\nexport default {};\n`);
    const typeErr = await checkConfig(dir.path);
    assert.equal(typeErr.ok, false);
    if (!typeErr.ok)
      assert.match(
        typeErr.problems[0]!,
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:7: type error TS2322`),
      );

    writeFileSync(
      file,
      `export default { workers: [{ name: 'w', password: 'pw' }], db: { url: 'sqlite:db/x.sqlite' } };\n`,
    );
    const good = await checkConfig(dir.path);
    assert.ok(good.ok);
    assert.equal(good.config.dbUrl, 'sqlite:db/x.sqlite');
  });

  it('upgrade-master migrates the database the config names', async () => {
    const file = join(dir.path, 'lathe.sqlite');
    const url = TEST_DB === 'sqlite' ? 'sqlite:lathe.sqlite' : await testDatabaseUrl(file);
    writeFileSync(
      join(dir.path, 'master.config.ts'),
      `export default { db: { url: ${JSON.stringify(url)} } };\n`,
    );
    const first = await upgradeMaster(dir.path);
    // A PostgreSQL database is named by its URL, without the password.
    assert.equal(first.database, TEST_DB === 'sqlite' ? file : url.replace(/:[^:@/]+@/, ':***@'));
    assert.deepEqual(first.applied, MIGRATIONS);
    assert.equal(existsSync(file), TEST_DB === 'sqlite');
    assert.deepEqual((await upgradeMaster(dir.path)).applied, []);
  });
});
