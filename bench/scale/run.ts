/**
 * Issue 14's scale benchmark, several masters on one database (today: one SQLite file):
 *
 *   ./dev npm run build && ./dev node bench/scale/run.ts [--masters 1,3] [--workers 12] [--changes 200] [--builders 4] [--smoke]
 *
 * For each master count, a fresh master directory per master (`lathe create-master`, a
 * generated config with `cluster` and the shared `db.url`, `lathe start --nodaemon`), the
 * Lathe workers spread over the masters round-robin, then `changes` changes sent by
 * Twisted's PB (bench/master/sendchange.py) to the first master's PB change source; the
 * single-branch scheduler runs on whichever master holds its lease and every master's
 * distributor claims requests for its own workers. builds/s: first change sent → last build
 * complete (the shared file polled every 50 ms). Prints one JSON line per master count and
 * the ratio to one master. `--smoke` runs a handful of builds (a check, no figures).
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startWorker } from '../master/buildbot.ts';
import { ChangeSender } from '../master/change-sender.ts';
import {
  completedBuilds,
  LATHE_INDEX,
  load,
  queryState,
  ROOT,
  removeDir,
  startChild,
  stopChild,
  successfulBuilds,
  TextLines,
  tempDir,
  waitUntil,
} from '../master/common.ts';

const LATHE_CLI = join(ROOT, 'packages/master/bin/lathe.js');

const { values } = parseArgs({
  options: {
    masters: { type: 'string', default: '1,3' },
    workers: { type: 'string', default: '12' },
    changes: { type: 'string', default: '200' },
    builders: { type: 'string', default: '4' },
    smoke: { type: 'boolean', default: false },
  },
});
const counts = values.masters.split(',').map(Number);
const workers = Number(values.workers);
const changes = values.smoke ? 5 : Number(values.changes);
const builders = Number(values.builders);

function configText(db: string, workerPort: number): string {
  const workerList = Array.from({ length: workers }, (_, i) => `{ name: 'w${i}', password: 'pw' }`);
  const names = JSON.stringify(Array.from({ length: workers }, (_, i) => `w${i}`));
  const builderList = Array.from(
    { length: builders },
    (_, i) =>
      `{ name: 'b${i}', workerNames: ${names}, collapseRequests: false, factory: buildFactory(shellCommand({ name: 'step', command: ['true'] })) }`,
  );
  const builderNames = JSON.stringify(Array.from({ length: builders }, (_, i) => `b${i}`));
  return `import { buildFactory, defineConfig, pbChangeSource, shellCommand, singleBranchScheduler } from '${LATHE_INDEX}';
export default defineConfig({
  workerPort: ${workerPort},
  workers: [${workerList.join(', ')}],
  builders: [${builderList.join(',\n    ')}],
  changeSources: [pbChangeSource()],
  schedulers: [singleBranchScheduler({ name: 'main', branch: 'main', treeStableTimer: null, builderNames: ${builderNames} })],
  db: { url: ${JSON.stringify(`sqlite:${db}`)} },
  cluster: {},
});
`;
}

async function run(masterCount: number): Promise<{ builds: number; seconds: number; buildsPerS: number }> {
  const root = tempDir(`lathe-bench-scale-${masterCount}-`);
  const db = join(root, 'shared.sqlite');
  const masters: { proc: ChildProcess; port: number }[] = [];
  const workerProcs: ChildProcess[] = [];
  let sender: ChangeSender | null = null;
  try {
    for (let m = 0; m < masterCount; m++) {
      const dir = join(root, `m${m}`);
      const port = await freePort();
      execFileSync(process.execPath, [LATHE_CLI, 'create-master', dir], { stdio: 'ignore' });
      writeFileSync(join(dir, 'master.config.ts'), configText(db, port));
      const proc = startChild(process.execPath, [LATHE_CLI, 'start', '--nodaemon', dir]);
      await new TextLines(proc, `lathe start m${m}`).next(
        (l) => l.includes('worker port listening'),
        120_000,
      );
      masters.push({ proc, port });
    }
    for (let i = 0; i < workers; i++)
      workerProcs.push(startWorker('lathe', join(root, `w${i}`), masters[i % masterCount]!.port, `w${i}`));
    const attached = () =>
      Number(queryState<{ n: number }>(db, 'SELECT count(*) AS n FROM connected_workers')[0]?.n) === workers;
    await waitUntil(attached, 120_000, `${workers} workers to attach`, 100);
    sender = new ChangeSender(masters[0]!.port);
    const expected = changes * builders;
    const sent = await sender.send(changes);
    const t0 = sent[0]!.connectAt;
    await waitUntil(() => completedBuilds(db) >= expected, 1_800_000, `${expected} builds`, 50);
    const seconds = (Date.now() - t0) / 1000;
    const ok = successfulBuilds(db);
    if (ok !== expected) throw new Error(`${masterCount} masters: ${ok} of ${expected} builds succeeded`);
    return { builds: expected, seconds, buildsPerS: expected / seconds };
  } finally {
    await sender?.stop();
    for (const w of workerProcs) await stopChild(w);
    for (const m of masters) await stopChild(m.proc, 'SIGTERM', 30_000);
    removeDir(root);
  }
}

const figures = new Map<number, number>();
for (const n of counts) {
  const r = await run(n);
  figures.set(n, r.buildsPerS);
  const base = figures.get(1);
  console.log(
    `scale: ${JSON.stringify({
      masters: n,
      workers,
      ...r,
      ...(base && n !== 1 ? { vsOneMaster: Number((r.buildsPerS / base).toFixed(2)) } : {}),
      load: load(),
      ...(values.smoke ? { smoke: true } : {}),
    })}`,
  );
}
