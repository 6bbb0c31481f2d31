// When build requests wait for a builder and none of its workers is free, latent workers
// among them are started: one per waiting request that no starting instance is already
// meant for, as many as can start.
import type { DistributorBuilder, WorkerSlot } from '../../distributor/slots.js';
import { LatentWorkerService } from './service.js';

export async function startLatentWorkersFor(
  builder: DistributorBuilder,
  worker: (name: string) => WorkerSlot | undefined,
  pendingRequests: (builderid: number, limit: number) => Promise<number>,
): Promise<void> {
  const latent = builder.config.workerNames
    .map(worker)
    .filter((w): w is LatentWorkerService => w instanceof LatentWorkerService);
  const startable = latent.filter((w) => w.canSubstantiate());
  if (startable.length === 0) return;
  const starting = latent.filter((w) => w.state === 'starting').length;
  const waiting = await pendingRequests(builder.builderid, starting + startable.length);
  for (const w of startable.slice(0, Math.max(0, waiting - starting))) w.substantiate();
}
