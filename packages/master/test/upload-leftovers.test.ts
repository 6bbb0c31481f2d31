// A master that died mid-upload leaves the upload's temporary file (and, for a directory,
// its archive) in the master directory; the next start deletes them and nothing else.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { startMaster, tempDir } from './helpers.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

describe('upload leftovers', () => {
  const dir = tempDir('lathe-upload-leftovers-');
  after(() => dir.cleanup());

  it('are deleted when the master starts; other files stay', async () => {
    writeFileSync(
      join(dir.path, 'master.config.ts'),
      `import { defineConfig } from '${lathe}';\nexport default defineConfig({ workers: [] });\n`,
    );
    mkdirSync(join(dir.path, 'artifacts', 'deep'), { recursive: true });
    const leftovers = [
      join(dir.path, 'artifacts', '.4242.0.lathe-upload'),
      join(dir.path, 'artifacts', 'deep', '.4242.17.lathe-upload'),
      join(dir.path, 'artifacts', 'site.lathe-tar'),
    ];
    const kept = [
      join(dir.path, 'artifacts', 'report.txt'),
      join(dir.path, 'artifacts', '.hidden'),
      join(dir.path, 'artifacts', 'deep', 'x.lathe-upload.txt'),
    ];
    for (const f of [...leftovers, ...kept]) writeFileSync(f, 'data');

    const master = await startMaster({ basedir: dir.path, name: 'leftovers' });
    try {
      assert.deepEqual([...master.removedUploadLeftovers].sort(), [...leftovers].sort());
      for (const f of leftovers) assert.ok(!existsSync(f), `${f} was left`);
      for (const f of kept) assert.ok(existsSync(f), `${f} was deleted`);
    } finally {
      await master.stop();
    }
  });
});
