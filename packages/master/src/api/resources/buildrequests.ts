// Build requests: history grows here too, so collections order by id only, along the
// primary key or the (builderid, id) and (buildsetid) indexes.
import type { ResourceType } from '../resource.js';
import { flag, int, isSet } from './fields.js';

export const buildrequests: ResourceType = {
  name: 'buildrequest',
  plural: 'buildrequests',
  table: 'buildrequests',
  idField: 'buildrequestid',
  description: 'A request to build a buildset’s sources on one builder.',
  fields: {
    buildrequestid: int('id', 'the request’s id'),
    buildsetid: int('buildsetid', 'the buildset it belongs to'),
    builderid: int('builderid', 'the builder'),
    priority: int('priority', 'higher runs first'),
    submitted_at: int('submitted_at', 'when it was made, epoch seconds'),
    claimed: isSet('claimed_by_master', 'whether a master has taken it'),
    claimed_by_masterid: int('claimed_by_master', 'the master that took it', true),
    claimed_at: int('claimed_at', 'when, epoch seconds', true),
    complete: flag('complete', 'whether it is done'),
    results: int('results', 'Buildbot result 0..6 once complete', true),
    complete_at: int('complete_at', 'when it completed, epoch seconds', true),
    waited_for: flag('waited_for', 'whether something waits for it to finish'),
  },
  paths: [
    {
      pattern: '/buildrequests',
      params: {},
      collection: true,
      description: 'all build requests, newest first',
      constraints: () => ({}),
      indexedOrder: ['buildrequestid'],
      // (claimed_by_master, complete): a master's claims.
      indexedFilters: ['claimed_by_masterid'],
    },
    {
      pattern: '/buildrequests/:buildrequestid',
      params: { buildrequestid: 'integer' },
      collection: false,
      description: 'one build request',
      constraints: (p) => ({ id: p.buildrequestid! }),
    },
    {
      pattern: '/builders/:builderid/buildrequests',
      params: { builderid: 'integer' },
      collection: true,
      description: 'a builder’s build requests, newest first',
      constraints: (p) => ({ builderid: p.builderid! }),
      indexedOrder: ['buildrequestid'],
      // The pending-requests index: (builderid, complete, claimed_by_master, …).
      indexedFilters: ['complete', 'claimed', 'claimed_by_masterid'],
    },
    {
      pattern: '/buildsets/:buildsetid/buildrequests',
      params: { buildsetid: 'integer' },
      collection: true,
      description: 'a buildset’s requests (one per builder)',
      constraints: (p) => ({ buildsetid: p.buildsetid! }),
    },
  ],
  topics: (r, what) => [
    `buildrequests.${r.buildrequestid}.${what}`,
    `builders.${r.builderid}.buildrequests.${r.buildrequestid}.${what}`,
    `buildsets.${r.buildsetid}.buildrequests.${r.buildrequestid}.${what}`,
  ],
};
