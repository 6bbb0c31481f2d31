// Reporters' delivery state (reporters/delivery.ts): how far each got through the outbox
// of report events, how many it delivered, and its last error.
import type { ResourceType } from '../resource.js';
import { int, str } from './fields.js';

export const reporters: ResourceType = {
  name: 'reporter',
  plural: 'reporters',
  table: 'reporter_state',
  idField: 'reporterid',
  description:
    'A reporter’s durable delivery state: its backlog and last error (reporters removed from the config keep theirs).',
  fields: {
    reporterid: int('id', 'the reporter’s id'),
    name: str('name', 'its name in the config'),
    cursor: int('cursor', 'the last report event it has handled'),
    delivered: int('delivered', 'reports its receiver accepted'),
    failed_attempts: int('failed_attempts', 'failed delivery attempts since the last success'),
    last_error: str('last_error', 'the last failed attempt’s error', true),
    last_error_at: int('last_error_at', 'when it failed, epoch seconds', true),
    last_delivered_at: int('last_delivered_at', 'its last delivery, epoch seconds', true),
    backlog: {
      type: 'integer',
      description: 'report events it has not handled yet',
      source: { computed: true },
    },
  },
  paths: [
    {
      pattern: '/reporters',
      params: {},
      collection: true,
      description: 'every reporter the master has delivered for',
      constraints: () => ({}),
    },
    {
      pattern: '/reporters/:reporterid',
      params: { reporterid: 'integer' },
      collection: false,
      description: 'one reporter',
      constraints: (p) => ({ id: p.reporterid! }),
    },
  ],
  async complete(resources, fields, _read, data) {
    if (!fields.has('backlog')) return;
    for (const r of resources) r.backlog = await data.reportEvents.countAfter(r.cursor as number);
  },
  topics: (r, what) => [`reporters.${r.reporterid}.${what}`],
};
