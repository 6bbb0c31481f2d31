// Change sources: every configured one, who runs it, and its last poll, change and error
// (data/service-records.ts).
import type { ResourceType } from '../resource.js';
import { flag, int, str } from './fields.js';

export const changesources: ResourceType = {
  name: 'changesource',
  plural: 'changesources',
  table: 'changesources',
  idField: 'changesourceid',
  description: 'A change source of the config: a poller, or the PB port `sendchange` talks to.',
  fields: {
    changesourceid: int('id', 'the change source’s id'),
    name: str('name', 'its name in the config'),
    kind: str('kind', 'its type: git (a poller) or pb'),
    enabled: flag('enabled', 'whether a master runs it now'),
    masterid: int(
      'masterid',
      'the master running it; null when none does, or every master does (pb with `cluster`)',
      true,
    ),
    last_poll_at: int('last_poll_at', 'the end of its last poll, epoch seconds (pollers)', true),
    last_change_at: int('last_change_at', 'when it last stored a change, epoch seconds', true),
    last_error: str('last_error', 'why its last poll failed; null once a poll succeeds', true),
    last_error_at: int('last_error_at', 'when, epoch seconds', true),
  },
  paths: [
    {
      pattern: '/changesources',
      params: {},
      collection: true,
      description: 'every configured change source',
      constraints: () => ({}),
    },
    {
      pattern: '/changesources/:changesourceid',
      params: { changesourceid: 'integer' },
      collection: false,
      description: 'one change source',
      constraints: (p) => ({ id: p.changesourceid! }),
    },
    {
      pattern: '/masters/:masterid/changesources',
      params: { masterid: 'integer' },
      collection: true,
      description: 'the change sources a master runs alone (under its lease, or as the only master)',
      constraints: (p) => ({ masterid: p.masterid! }),
    },
  ],
  topics: (c, what) => [`changesources.${c.changesourceid}.${what}`],
};
