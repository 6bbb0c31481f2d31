// Workers: what they reported about themselves, where they are connected and configured.
import type { ResourceType } from '../resource.js';
import { computed, flag, int, json, str } from './fields.js';

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
  async complete(resources, fields, read) {
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
  },
  topics: (w, what) => [`workers.${w.workerid}.${what}`],
};
