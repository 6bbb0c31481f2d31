// A master started from a config file in a fresh master directory, with one real worker
// (stock buildbot-worker or Lathe's) attached: what the end-to-end step tests build on.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Master } from '../src/master.js';
import { type WorkerRuntime, withWorkers } from '../src/runtime.js';
import { createWorker, type TestWorker, type WorkerKind, waitFor } from './bbworker.js';
import { startMaster } from './helpers.js';

export interface MasterAndWorker {
  readonly rt: WorkerRuntime;
  readonly master: Master;
  readonly worker: TestWorker;
  /** Kills the worker and stops the master (safe to call after a failed start). */
  stop(): Promise<void>;
}

export async function startMasterAndWorker(options: {
  readonly kind: WorkerKind;
  readonly masterDir: string;
  readonly workerDir: string;
  readonly configText: string;
  /** The master's name; also keeps test masters apart in logs. */
  readonly name: string;
  readonly onError?: (err: unknown, context: string) => void;
  readonly quiet?: boolean;
}): Promise<MasterAndWorker> {
  mkdirSync(options.masterDir, { recursive: true });
  writeFileSync(join(options.masterDir, 'master.config.ts'), options.configText);
  const rt = withWorkers(
    {
      basedir: options.masterDir,
      name: options.name,
      onError: options.onError ?? (() => {}),
    },
    {
      port: 0,
      host: '127.0.0.1',
      ...(options.quiet ? { logger: { info: () => {}, warn: () => {} } } : {}),
    },
  );
  const master = await startMaster(rt.options);
  const worker = createWorker(options.kind, options.workerDir, 'w1', 'pw-1', rt.server.port);
  const stop = async () => {
    await worker.kill();
    await master.stop();
  };
  try {
    worker.start();
    await waitFor(() => master.workers.get('w1')!.connected, 20_000, 'the worker to attach');
  } catch (err) {
    await stop();
    throw err;
  }
  return { rt, master, worker, stop };
}
