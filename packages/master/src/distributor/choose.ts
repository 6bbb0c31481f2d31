// Pure choices the distributor makes, kept apart from I/O so they are easy to test.

import type { CollapseFn } from '../config/types.js';
import type { PendingRequest } from '../data/buildrequests.js';
import { defaultCollapsible } from './collapse.js';
import type { DistributorBuilder, WorkerSlot } from './slots.js';

/** Builders in the order they get idle workers: builder priority, then their best request. */
export function orderBuilders<B extends DistributorBuilder>(
  builders: readonly { builder: B; best: { priority: number; submittedAt: number } }[],
): B[] {
  return [...builders]
    .sort(
      (x, y) =>
        y.builder.config.priority - x.builder.config.priority ||
        y.best.priority - x.best.priority ||
        x.best.submittedAt - y.best.submittedAt ||
        x.builder.name.localeCompare(y.builder.name),
    )
    .map((e) => e.builder);
}

/** The default worker choice: fewest running builds, then the one idle longest. */
export function fairestWorker(workers: readonly WorkerSlot[]): WorkerSlot | null {
  let best: WorkerSlot | null = null;
  for (const w of workers) {
    if (
      best === null ||
      w.runningBuilds < best.runningBuilds ||
      (w.runningBuilds === best.runningBuilds && w.lastAssigned < best.lastAssigned) ||
      (w.runningBuilds === best.runningBuilds && w.lastAssigned === best.lastAssigned && w.name < best.name)
    ) {
      best = w;
    }
  }
  return best;
}

/**
 * The requests among `pending` that collapse with `chosen` (chosen included), oldest first.
 * The last of them — the newest — is the one to build.
 */
export async function collapseGroup(
  chosen: PendingRequest,
  pending: readonly PendingRequest[],
  rule: boolean | CollapseFn,
): Promise<PendingRequest[]> {
  // A bisection build must build exactly its revision, and must not stand for others.
  if (rule === false || chosen.bisection) return [chosen];
  const fn: CollapseFn = rule === true ? defaultCollapsible : rule;
  const group = [chosen];
  for (const other of pending) {
    if (other.id === chosen.id || other.bisection) continue;
    const [older, newer] = other.id < chosen.id ? [other, chosen] : [chosen, other];
    if (await fn(older, newer)) group.push(other);
  }
  return group.sort((a, b) => a.id - b.id);
}
