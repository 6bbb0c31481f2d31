// The old-build canceller on pending requests, on a real master with no build runner (so
// requests stay pending): a newer change on a branch cancels the older change's request
// on that branch and builder, not another branch's, and not a scheduler's without the
// option.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Master } from '../src/master.js';
import { CANCELLED } from '../src/results.js';
import { waitFor } from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

describe('old-build canceller on pending requests', () => {
  const dir = tempDir('lathe-old-builds-');
  let master: Master;

  before(async () => {
    writeFileSync(
      join(dir.path, 'master.config.ts'),
      `import { anyBranchScheduler, buildFactory, defineConfig } from '${lathe}';
const step = { name: 'compile', async run() { return 0 as const; } };
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'cancelling', workerNames: ['w1'], factory: buildFactory(step) },
    { name: 'keeping', workerNames: ['w1'], factory: buildFactory(step) }],
  schedulers: [
    anyBranchScheduler({ name: 'newest-only', builderNames: ['cancelling'], cancelOldBuilds: true }),
    anyBranchScheduler({ name: 'every-commit', builderNames: ['keeping'] }),
  ],
});
`,
    );
    master = await startMaster({ basedir: dir.path, name: 'old-builds', onError: () => {} });
  });
  after(async () => {
    await master?.stop();
    dir.cleanup();
  });

  const requestsOf = (builder: string) =>
    master.db.kysely
      .selectFrom('buildrequests')
      .select(['id', 'complete', 'results'])
      .where('builderid', '=', master.builders.get(builder)!.builderid)
      .orderBy('id')
      .execute();
  const change = (branch: string, revision: string) =>
    master.addChange({ author: 'ann', branch, revision, repository: 'https://example.invalid/r.git' });

  it('cancels the superseded request of the same branch only', async () => {
    await change('main', 'aaa');
    await change('feature', 'fff');
    await waitFor(async () => (await requestsOf('keeping')).length === 2, 10_000, 'two requests');
    await change('main', 'bbb');
    await waitFor(async () => (await requestsOf('cancelling')).length === 3, 10_000, 'the third request');
    await waitFor(async () => (await requestsOf('cancelling'))[0]!.complete === 1, 10_000, 'the cancel');
    await master.bus.idle();
    assert.deepEqual(
      (await requestsOf('cancelling')).map((r) => [r.complete, r.results]),
      [
        [1, CANCELLED],
        [0, null],
        [0, null],
      ],
      'main at aaa cancelled; feature and main at bbb still pending',
    );
    assert.deepEqual(
      (await requestsOf('keeping')).map((r) => r.complete),
      [0, 0, 0],
      'a scheduler without cancelOldBuilds cancels nothing',
    );
  });
});
