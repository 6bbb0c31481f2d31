// The data API's message queue on a master of several (`cluster`): fed from the outbox
// (cluster/outbox-relay.ts) instead of the bus, so that every master numbers every message
// alike, by the outbox's global sequence, in one stream named for the cluster. A
// subscriber that reconnects to any master with the last position it saw gets what it
// missed, also what another master published and also after this master restarted: what
// is no longer in memory is read again from the outbox (the resources as they are now),
// or it is told to resync when the outbox no longer holds it.
import type { OutboxRelay } from '../../cluster/outbox-relay.js';
import type { DataLayer, OutboxRow } from '../../data/index.js';
import type { DataApi } from '../data-api.js';
import { publicationFor } from './bridge.js';
import type { DurableHistory, InProcessQueue } from './in-process.js';
import type { MqPublication } from './queue.js';

/** Every master's stream has this name: positions carry over between masters. */
export const CLUSTER_STREAM = 'cluster';

/** More missed rows than this are not replayed: the subscriber resyncs. */
const MAX_REPLAY = 10_000;

/** The outbox as the queue's history older than memory. */
export function outboxHistory(data: DataLayer, api: DataApi): DurableHistory {
  return {
    async read(after, before) {
      const oldest = await data.outbox.oldestId();
      // Pruned (a gap a rolled-back append left looks alike: the resync is then needless, not wrong).
      if (before > after + 1 && (oldest === null || oldest > after + 1)) return null;
      const out: { seq: number; publication: MqPublication }[] = [];
      let cursor = after;
      let read = 0;
      while (cursor < before - 1) {
        const { rows, lastId } = await data.outbox.after(cursor, 500);
        if (lastId === cursor) break;
        cursor = lastId;
        for (const row of rows) {
          if (row.id >= before) return out;
          if (++read > MAX_REPLAY) return null;
          const publication = await publicationFor(api, row.kind, row.payload);
          if (publication) out.push({ seq: row.id, publication });
        }
      }
      return out;
    },
    newest: () => data.outbox.lastId(),
  };
}

/**
 * Publishes the relay's rows on `queue`, one at a time in id order (the resource is read
 * for each); past `maxQueue` waiting rows (default 100,000) they are dropped and the queue
 * tells its subscribers to resync.
 */
export function bridgeOutboxToQueue(
  relay: OutboxRelay,
  api: DataApi,
  queue: InProcessQueue,
  options: { maxQueue?: number; onError?: (err: unknown) => void } = {},
): { unsubscribe(): void } {
  const maxQueue = options.maxQueue ?? 100_000;
  const waiting: OutboxRow[] = [];
  let draining = false;
  let stopped = false;
  const drain = async (): Promise<void> => {
    if (draining) return;
    draining = true;
    try {
      while (!stopped && waiting.length > 0) {
        const row = waiting.shift()!;
        try {
          const publication = await publicationFor(api, row.kind, row.payload);
          // Not when a gap (`maxQueue`) moved past it meanwhile.
          if (publication && !stopped && row.id > queue.position().seq) queue.publish(publication, row.id);
        } catch (err) {
          options.onError?.(err);
        }
      }
    } finally {
      draining = false;
    }
  };
  const unfollow = relay.follow({
    event(row) {
      if (waiting.length >= maxQueue) {
        const last = waiting[waiting.length - 1]!.id;
        waiting.length = 0;
        queue.gap('events were dropped under load', last);
      }
      waiting.push(row);
      void drain();
    },
    lost: (reason) => queue.gap(reason),
  });
  return {
    unsubscribe() {
      stopped = true;
      unfollow();
    },
  };
}
