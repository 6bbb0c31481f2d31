// Workers: what they reported about themselves, where they are connected and configured.
import type { FieldDecl, ResourceType } from '../resource.js';
import { computed, flag, int, json, str } from './fields.js';

/** A field of latent workers' state (data/latent-workers.ts); null for other workers. */
const latentField = (type: 'string' | 'integer', description: string): FieldDecl => ({
  type,
  nullable: true,
  description: `${description}; null unless latent`,
  source: { computed: true },
});

const LATENT_FIELDS = [
  'latent',
  'latent_state',
  'last_start_error',
  'last_start_error_at',
  'missing',
  'next_start_at',
  'idle_stop_at',
];

export const workers: ResourceType = {
  name: 'worker',
  plural: 'workers',
  table: 'workers',
  idField: 'workerid',
  description: 'A worker known to the masters.',
  fields: {
    workerid: int('id', 'the worker’s id'),
    name: str('name', 'its name'),
    workerinfo: json('info', 'object', 'what it reported about itself (admin, host, version, …)', {
      type: 'object',
    }),
    paused: flag('paused', 'whether it takes no new builds'),
    graceful: flag('graceful', 'whether it is shutting down once its builds end'),
    connected_to: computed('array', 'masters it is connected to', {
      type: 'array',
      items: { type: 'object', properties: { masterid: { type: 'integer' } }, required: ['masterid'] },
    }),
    configured_on: computed('array', 'builders (on which master) it serves', {
      type: 'array',
      items: {
        type: 'object',
        properties: { builderid: { type: 'integer' }, masterid: { type: 'integer' } },
        required: ['builderid', 'masterid'],
      },
    }),
    latent: {
      type: 'boolean',
      description: 'whether the master starts it on demand and stops it when idle (a latent worker)',
      source: { computed: true },
    },
    latent_state: {
      ...latentField('string', 'its instance: stopped, starting, running or stopping'),
      schema: { type: 'string', enum: ['stopped', 'starting', 'running', 'stopping', null] },
    },
    last_start_error: latentField('string', 'why its last failed start failed (kept after a success)'),
    last_start_error_at: latentField('integer', 'when that start failed, epoch seconds'),
    missing: {
      type: 'boolean',
      description: 'whether its start attempts ran out (reported missing; requests keep waiting)',
      source: { computed: true },
    },
    next_start_at: latentField('integer', 'no start is attempted before then (a retry delay), epoch seconds'),
    idle_stop_at: latentField('integer', 'when it is stopped for idling if no build comes, epoch seconds'),
  },
  paths: [
    {
      pattern: '/workers',
      params: {},
      collection: true,
      description: 'every worker',
      constraints: () => ({}),
    },
    {
      pattern: '/workers/:workerid',
      params: { workerid: 'integer' },
      collection: false,
      description: 'one worker by id',
      constraints: (p) => ({ id: p.workerid! }),
    },
    {
      pattern: '/workers/:name',
      params: { name: 'identifier' },
      collection: false,
      description: 'one worker by name',
      constraints: (p) => ({ name: p.name! }),
    },
  ],
  async complete(resources, fields, read, data) {
    const ids = resources.map((r) => r.workerid as number);
    if (fields.has('connected_to')) {
      const rows = await read('connected_workers', ['workerid', 'masterid'], {
        column: 'workerid',
        values: ids,
      });
      for (const r of resources)
        r.connected_to = rows.filter((c) => c.workerid === r.workerid).map((c) => ({ masterid: c.masterid }));
    }
    if (fields.has('configured_on')) {
      const rows = await read('configured_workers', ['workerid', 'builderid', 'masterid'], {
        column: 'workerid',
        values: ids,
      });
      for (const r of resources)
        r.configured_on = rows
          .filter((c) => c.workerid === r.workerid)
          .map((c) => ({ builderid: c.builderid, masterid: c.masterid }));
    }
    if (LATENT_FIELDS.some((f) => fields.has(f))) {
      const status = await data.latentWorkers.statusOf(ids);
      for (const r of resources) {
        const s = status.get(r.workerid as number);
        r.latent = s !== undefined;
        r.latent_state = s?.state ?? null;
        r.last_start_error = s?.lastStartError ?? null;
        r.last_start_error_at = s?.lastStartErrorAt ?? null;
        r.missing = s?.missing ?? false;
        r.next_start_at = s?.nextStartAt ?? null;
        r.idle_stop_at = s?.idleStopAt ?? null;
      }
    }
  },
  topics: (w, what) => [`workers.${w.workerid}.${what}`],
};
