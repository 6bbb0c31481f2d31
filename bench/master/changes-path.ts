// Builds through the public path, the same for Lathe and for stock Buildbot 3.7: changes
// sent by another process (sendchange.py, Twisted's PB) to the master's PB change source,
// a single-branch scheduler on 'main' without a tree-stable timer, builds on real workers
// (Lathe's or stock buildbot-worker), results read from the master's state.sqlite.
//
// - builds:  `count` changes, each building on every builder; builds/s from the first
//            change's connection to the last build complete (state.sqlite polled every 50 ms).
// - latency: one builder whose step writes `date +%s%N` to a file; addChange call → that
//            stamp, with the worker idle before each change.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuildbotMaster, freePort, startWorker, type WorkerKind } from './buildbot.ts';
import { ChangeSender, type SentChange } from './change-sender.ts';
import {
  completedBuilds,
  queryState,
  ROOT,
  removeDir,
  sleep,
  startChild,
  stopChild,
  successfulBuilds,
  TextLines,
  tempDir,
  waitUntil,
  writeLatheConfig,
} from './common.ts';

const LATHE_CLI = join(ROOT, 'packages/master/bin/lathe.js');

export type MasterKind = 'lathe' | 'buildbot';

interface MasterSpec {
  readonly workers: number;
  readonly builders: number;
  readonly command: readonly string[];
}

/** A master and its workers, running. */
interface Running {
  readonly port: number;
  readonly dbFile: string;
  stop(): Promise<void>;
}

async function startMaster(
  master: MasterKind,
  workerKind: WorkerKind,
  dir: string,
  spec: MasterSpec,
): Promise<Running> {
  const port = await freePort();
  let stopMaster: () => Promise<void>;
  let dbFile: string;
  if (master === 'lathe') {
    // As users run it: create-master, master.config.ts, `lathe start --nodaemon`.
    execFileSync(process.execPath, [LATHE_CLI, 'create-master', dir], { stdio: 'ignore' });
    writeLatheConfig(dir, { ...spec, workerPort: port });
    const proc = startChild(process.execPath, [LATHE_CLI, 'start', '--nodaemon', dir]);
    await new TextLines(proc, 'lathe start').next((l) => l.includes('worker port listening'), 60_000);
    dbFile = join(dir, 'state.sqlite');
    stopMaster = () => stopChild(proc, 'SIGTERM', 30_000);
  } else {
    const bb = new BuildbotMaster(join(dir, 'master'), { ...spec, port });
    await bb.start();
    dbFile = join(dir, 'master', 'state.sqlite');
    stopMaster = () => bb.stop();
  }
  const workers: ChildProcess[] = [];
  for (let i = 0; i < spec.workers; i++)
    workers.push(startWorker(workerKind, join(dir, `w${i}`), port, `w${i}`));
  const connected = () =>
    existsSync(dbFile) &&
    Number(queryState<{ n: number }>(dbFile, 'SELECT count(*) AS n FROM connected_workers')[0]?.n) ===
      spec.workers;
  await waitUntil(connected, 120_000, `${spec.workers} ${workerKind} workers to attach to ${master}`, 100);
  return {
    port,
    dbFile,
    async stop() {
      for (const w of workers) await stopChild(w);
      await stopMaster();
    },
  };
}

export interface BuildsFigures {
  readonly builds: number;
  readonly seconds: number;
  readonly buildsPerS: number;
  /** First connection → last change acknowledged. */
  readonly sendSeconds: number;
}

/** `changes` changes × `builders` builders, all on `workers` workers running `true`. */
export async function buildsThroughChanges(
  master: MasterKind,
  workerKind: WorkerKind,
  opts: { changes: number; builders: number; workers: number },
): Promise<BuildsFigures> {
  const dir = tempDir(`lathe-bench-changes-${master}-${workerKind}-`);
  let running: Running | null = null;
  let sender: ChangeSender | null = null;
  try {
    running = await startMaster(master, workerKind, dir, {
      workers: opts.workers,
      builders: opts.builders,
      command: ['true'],
    });
    sender = new ChangeSender(running.port);
    const expected = opts.changes * opts.builders;
    const sent = await sender.send(opts.changes);
    const t0 = sent[0]!.connectAt;
    const db = running.dbFile;
    await waitUntil(() => completedBuilds(db) >= expected, 1_800_000, `${expected} ${master} builds`, 50);
    const seconds = (Date.now() - t0) / 1000;
    const ok = successfulBuilds(db);
    if (ok !== expected) throw new Error(`${master}: ${ok} of ${expected} builds succeeded`);
    return {
      builds: expected,
      seconds,
      buildsPerS: expected / seconds,
      sendSeconds: (sent.at(-1)!.ackAt - t0) / 1000,
    };
  } finally {
    await sender?.stop();
    await running?.stop();
    removeDir(dir);
  }
}

export interface LatencySamples {
  /** addChange call → the step's command running on the worker, ms. */
  readonly toCommand: number[];
  /** addChange call → its answer (the change stored), ms. */
  readonly ack: number[];
  /** Connection and login before each call (not in toCommand), ms. */
  readonly login: number[];
}

/** One worker, one builder; `samples` changes after `warmup` ones, the worker idle before each. */
export async function latencyThroughChanges(
  master: MasterKind,
  workerKind: WorkerKind,
  opts: { samples: number; warmup: number; budgetMs: number },
): Promise<LatencySamples> {
  const dir = tempDir(`lathe-bench-latency-${master}-${workerKind}-`);
  const stamps = join(dir, 'stamps');
  let running: Running | null = null;
  let sender: ChangeSender | null = null;
  try {
    running = await startMaster(master, workerKind, dir, {
      workers: 1,
      builders: 1,
      command: ['sh', '-c', `date +%s%N >> ${stamps}`],
    });
    sender = new ChangeSender(running.port);
    const stampLines = () => (existsSync(stamps) ? readFileSync(stamps, 'utf8').trim().split('\n') : []);
    const toCommand: number[] = [];
    const ack: number[] = [];
    const login: number[] = [];
    const deadline = Date.now() + opts.budgetMs;
    const db = running.dbFile;
    for (let i = 0; i < opts.samples + opts.warmup && Date.now() < deadline; i++) {
      const [change] = (await sender.send(1)) as [SentChange];
      await waitUntil(() => stampLines().length > i, 30_000, `${master}: the command of change ${i + 1}`, 1);
      const ranAt = Number(stampLines()[i]) / 1e6;
      await waitUntil(() => completedBuilds(db) > i, 30_000, `${master}: build ${i + 1} to finish`, 10);
      if (i >= opts.warmup) {
        toCommand.push(ranAt - change.callAt);
        ack.push(change.ackAt - change.callAt);
        login.push(change.callAt - change.connectAt);
      }
      await sleep(20); // the worker idle again and the build's end recorded
    }
    return { toCommand, ack, login };
  } finally {
    await sender?.stop();
    await running?.stop();
    removeDir(dir);
  }
}
