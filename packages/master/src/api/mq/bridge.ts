// Feeds the message queue from the master's event bus, so every existing publisher (the
// data layer's writes) reaches the data API's subscribers unchanged: each bus event names a
// resource, which is read whole after the write committed and published at every path it
// lives at. The bus subscription runs one event at a time, so the queue sees them in order.
import type { EventBus, Subscription } from '../../bus/bus.js';
import type { BusMessage, EventKind } from '../../bus/events.js';
import type { DataApi } from '../data-api.js';
import type { InProcessQueue } from './in-process.js';
import type { MqPublication } from './queue.js';

interface Mapping {
  readonly type: string;
  readonly event: string;
  /** The payload field holding the resource's id. */
  readonly idField: string;
}

const byId = (type: string, event: string, idField: string): Mapping => ({ type, event, idField });

/** Which resource each bus event is about. Events without a resource (eta, buildsets) are not bridged yet. */
const MAPPINGS: Partial<Record<EventKind, Mapping>> = {
  'master.started': byId('masters', 'started', 'masterid'),
  'master.stopped': byId('masters', 'stopped', 'masterid'),
  'builder.configured': byId('builders', 'update', 'builderid'),
  'worker.configured': byId('workers', 'new', 'workerid'),
  'worker.connected': byId('workers', 'connected', 'workerid'),
  'worker.disconnected': byId('workers', 'disconnected', 'workerid'),
  'worker.state': byId('workers', 'update', 'workerid'),
  'worker.latent-status': byId('workers', 'update', 'workerid'),
  'scheduler.updated': byId('schedulers', 'update', 'schedulerid'),
  'forcescheduler.updated': byId('forceschedulers', 'update', 'schedulerid'),
  'changesource.updated': byId('changesources', 'update', 'changesourceid'),
  'change.new': byId('changes', 'new', 'changeid'),
  'buildrequest.new': byId('buildrequests', 'new', 'buildrequestid'),
  'buildrequest.claimed': byId('buildrequests', 'claimed', 'buildrequestid'),
  'buildrequest.unclaimed': byId('buildrequests', 'unclaimed', 'buildrequestid'),
  'buildrequest.complete': byId('buildrequests', 'complete', 'buildrequestid'),
  'build.started': byId('builds', 'new', 'buildid'),
  'build.state': byId('builds', 'update', 'buildid'),
  'build.finished': byId('builds', 'finished', 'buildid'),
  'step.started': byId('steps', 'started', 'stepid'),
  'step.finished': byId('steps', 'finished', 'stepid'),
  'log.new': byId('logs', 'new', 'logid'),
  'log.append': byId('logs', 'append', 'logid'),
  'log.finished': byId('logs', 'finished', 'logid'),
  'test.quarantine': byId('tests', 'update', 'testid'),
  'annotation.new': byId('annotations', 'new', 'annotationid'),
};

/** The message a bus event becomes (its resource as it is now), or null when it has none. */
export async function publicationFor(
  api: DataApi,
  kind: string,
  payload: unknown,
): Promise<MqPublication | null> {
  const mapping = MAPPINGS[kind as EventKind];
  if (!mapping) return null;
  const type = api.type(mapping.type);
  const id = (payload as Readonly<Record<string, unknown>>)[mapping.idField] as number;
  const resource = await api.one(mapping.type, { id });
  if (!resource) return null;
  return {
    topics: type.topics(resource, mapping.event),
    resourceType: type.plural,
    event: mapping.event,
    resource,
  };
}

/**
 * Bus events wait in the bridge's queue while resources are read; past `maxQueue` (default
 * 100,000) the oldest are dropped and the message queue tells its subscribers to resync.
 */
export function bridgeBusToQueue(
  bus: EventBus,
  api: DataApi,
  queue: InProcessQueue,
  options: { maxQueue?: number } = {},
): Subscription {
  let dropped = 0;
  const subscription = bus.subscribe(
    '#',
    async (message: BusMessage) => {
      if (subscription.dropped !== dropped) {
        dropped = subscription.dropped;
        queue.gap('events were dropped under load');
      }
      const publication = await publicationFor(api, message.kind, message.payload);
      if (publication) queue.publish(publication);
    },
    { name: 'data API message queue', maxQueue: options.maxQueue ?? 100_000 },
  );
  return subscription;
}
