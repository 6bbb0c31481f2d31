// Masters sharing the database.
import type { ResourceType } from '../resource.js';
import { flag, int, str } from './fields.js';

export const masters: ResourceType = {
  name: 'master',
  plural: 'masters',
  table: 'masters',
  idField: 'masterid',
  description: 'A master process sharing the database; active while it runs.',
  fields: {
    masterid: int('id', 'the master’s id'),
    name: str('name', 'host and directory of the master'),
    active: flag('active', 'whether it is running'),
    last_active: int('last_active', 'its last heartbeat, epoch seconds'),
  },
  paths: [
    {
      pattern: '/masters',
      params: {},
      collection: true,
      description: 'every master that ever used this database',
      constraints: () => ({}),
    },
    {
      pattern: '/masters/:masterid',
      params: { masterid: 'integer' },
      collection: false,
      description: 'one master',
      constraints: (p) => ({ id: p.masterid! }),
    },
  ],
  topics: (m, what) => [`masters.${m.masterid}.${what}`],
};
