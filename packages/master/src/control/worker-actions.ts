// Pause, unpause and graceful shutdown of a worker, as `lathe worker …` asks for them over
// the control channel. Errors are PBErrors: their message is what the user reads.
import { PBError } from '@lathe/pb';
import type { Master } from '../master.js';
import { LatentWorkerService } from '../workers/latent/service.js';
import type { WorkerService } from '../workers/worker.js';
import type { WorkerAction, WorkerActionResult } from './protocol.js';

/** What `lathe status` shows for a worker. */
export function workerState(w: WorkerService): string {
  if (w instanceof LatentWorkerService && w.state !== 'substantiated') {
    if (w.state === 'insubstantial') return w.latentStatus.missing ? 'missing' : 'not started';
    return w.state;
  }
  if (!w.connected) return 'disconnected';
  if (w.graceful) return 'shutting down';
  if (w.paused) return 'paused';
  return w.runningBuilds > 0 ? 'busy' : 'idle';
}

export async function applyWorkerAction(
  master: Master,
  name: unknown,
  action: WorkerAction,
): Promise<WorkerActionResult> {
  if (typeof name !== 'string') throw new PBError(`${action}: the worker name must be a string`);
  const worker = master.workers.get(name);
  if (!worker) {
    const known = [...master.workers.values()].map((w) => w.name).join(', ') || 'none';
    throw new PBError(`no worker named ${JSON.stringify(name)} (workers: ${known})`);
  }
  // A worker that is not connected has nothing to pause or shut down; its settings would
  // only surprise whoever sees it connect later.
  if (!worker.connected) throw new PBError(`worker ${JSON.stringify(name)} is not connected`);
  let changed: boolean;
  switch (action) {
    case 'pause':
      changed = !worker.paused;
      await worker.pause();
      break;
    case 'unpause':
      changed = worker.paused;
      await worker.unpause();
      break;
    case 'shutdown':
      changed = !worker.graceful;
      // Graceful: running builds finish first, and the worker takes no new ones meanwhile.
      await worker.shutdown({ graceful: true });
      break;
  }
  return {
    name: worker.name,
    changed,
    state: workerState(worker),
    runningBuilds: worker.runningBuilds,
  };
}
