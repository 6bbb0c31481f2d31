// A master that has run thousands of builds holds no more memory than after its first few
// hundred: nothing keeps a per-build record for the master's lifetime. Builds go through
// the real path (buildset → pending request → distributor → claim → starter → finished
// build → completed request → released slot) with a starter that finishes each build at
// once, so thousands fit in seconds. Live objects are measured after forced garbage collection.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Assignment, BuildStarter } from '../src/distributor/slots.js';
import type { Master } from '../src/master.js';
import { SUCCESS } from '../src/results.js';
import { startMaster, tempDir } from './helpers.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

// node:test runs each file in its own process without --expose-gc; this turns it on for
// contexts created from now on, and a new context's global `gc` collects the whole heap.
// Bytecode flushing would free a few hundred kB of unused functions' code at some GC
// during the run and hide a leak of the same size.
setFlagsFromString('--expose-gc');
setFlagsFromString('--no-flush-bytecode');
const gc = runInNewContext('gc') as () => void;

/** Bytes of JavaScript objects alive (code and large buffers are in other spaces). */
function liveObjectsAfterGc(): number {
  for (let i = 0; i < 10; i++) gc();
  const used = new Map(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
  return (used.get('old_space') ?? 0) + (used.get('new_space') ?? 0);
}

/** Finishes every build as soon as it starts, as a runner whose steps take no time would. */
class InstantStarter implements BuildStarter {
  finished = 0;
  constructor(private readonly master: () => Master) {}
  async startBuild(a: Assignment): Promise<void> {
    const { data, masterid } = this.master();
    const { buildid } = await data.builds.add({
      builderid: a.builder.builderid,
      buildrequestid: a.request.id,
      workerid: a.worker.workerid,
      masterid,
    });
    // The rest happens after startBuild returned, as with the real runner.
    setImmediate(async () => {
      await data.builds.finish(buildid, SUCCESS);
      await data.buildrequests.complete([a.request.id], SUCCESS, masterid);
      a.worker.release();
      this.finished++;
    });
  }
}

describe('a long-running master', () => {
  const dir = tempDir('lathe-longrun-');
  after(() => dir.cleanup());

  it('keeps its heap flat over thousands of builds', { timeout: 300_000 }, async () => {
    writeFileSync(
      join(dir.path, 'master.config.ts'),
      `import { defineConfig, buildFactory } from '${lathe}';
const noop = { name: 'noop', async run() { return 0 as const; } };
export default defineConfig({
  workers: [{ name: 'w1', password: 'a', maxBuilds: 2 }, { name: 'w2', password: 'b', maxBuilds: 2 }],
  builders: [
    { name: 'one', workerNames: ['w1', 'w2'], factory: buildFactory(noop) },
    { name: 'two', workerNames: ['w1', 'w2'], factory: buildFactory(noop) },
  ],
});
`,
    );
    let master: Master | undefined;
    const starter = new InstantStarter(() => master!);
    master = await startMaster({ basedir: dir.path, name: 'longrun', buildStarter: starter });
    try {
      for (const w of ['w1', 'w2']) await master.workers.get(w)!.attach({ disconnect: async () => {} }, {});
      const builderids = ['one', 'two'].map((b) => master!.builders.get(b)!.builderid);
      let submitted = 0;
      /** Submits `count` builds in batches, so that some requests queue, and waits for all. */
      const runBuilds = async (count: number) => {
        const target = starter.finished + count;
        for (let i = 0; i < count; i++) {
          const ssid = await master!.data.sourcestamps.findOrCreate({
            repository: 'https://example.org/repo.git',
            branch: 'main',
            revision: `r${++submitted}`,
          });
          await master!.data.buildsets.add({
            sourcestampids: [ssid],
            builderids: [builderids[i % 2]!],
            reason: 'long run',
          });
          // At most about 40 requests outstanding.
          while (target - count + i - starter.finished > 40) await new Promise((r) => setTimeout(r, 1));
        }
        while (starter.finished < target) await new Promise((r) => setTimeout(r, 5));
      };

      await runBuilds(1000); // warm-up: caches, prepared statements, optimised code
      const before = liveObjectsAfterGc();
      await runBuilds(3000);
      const grown = liveObjectsAfterGc() - before;
      assert.equal(starter.finished, 4000);
      assert.equal(await master.data.buildrequests.countPending(), 0);
      // Measured: a few tens of kB of noise; keeping each build's Assignment adds ~290 B a build.
      assert.ok(grown < 300_000, `live objects grew ${grown} bytes over 3000 builds`);
    } finally {
      await master.stop();
    }
  });
});
