// Builders, as configured on the masters.
import type { ResourceType } from '../resource.js';
import { computed, int, json, str } from './fields.js';

export const builders: ResourceType = {
  name: 'builder',
  plural: 'builders',
  table: 'builders',
  idField: 'builderid',
  description: 'A builder: a named recipe that turns build requests into builds.',
  fields: {
    builderid: int('id', 'the builder’s id'),
    name: str('name', 'the builder’s name'),
    description: str('description', 'its description', true),
    tags: json('tags', 'array', 'its tags', { type: 'array', items: { type: 'string' } }),
    project: str('project', 'the project it builds', true),
    masterids: computed('array', 'masters that run it now', { type: 'array', items: { type: 'integer' } }),
  },
  paths: [
    {
      pattern: '/builders',
      params: {},
      collection: true,
      description: 'every builder',
      constraints: () => ({}),
    },
    {
      pattern: '/builders/:builderid',
      params: { builderid: 'integer' },
      collection: false,
      description: 'one builder by id',
      constraints: (p) => ({ id: p.builderid! }),
    },
    {
      pattern: '/builders/:name',
      params: { name: 'identifier' },
      collection: false,
      description: 'one builder by name',
      constraints: (p) => ({ name: p.name! }),
    },
  ],
  async complete(resources, fields, read) {
    if (!fields.has('masterids')) return;
    const rows = await read('builder_masters', ['builderid', 'masterid'], {
      column: 'builderid',
      values: resources.map((r) => r.builderid as number),
    });
    for (const r of resources)
      r.masterids = rows.filter((row) => row.builderid === r.builderid).map((row) => row.masterid);
  },
  topics: (b, what) => [`builders.${b.builderid}.${what}`],
};
