// Builds. History grows without bound here, so every collection path orders only by what
// an index serves: a builder's builds by number, a worker's by id, all builds by id.

import { buildIdsOfBuildset, buildIdsOfChange } from '../../data/build-links.js';
import type { ResourceType } from '../resource.js';
import { int, isSet, str } from './fields.js';

export const builds: ResourceType = {
  name: 'build',
  plural: 'builds',
  table: 'builds',
  idField: 'buildid',
  description: 'One run of a builder’s steps on a worker for one or more build requests.',
  fields: {
    buildid: int('id', 'the build’s id'),
    number: int('number', 'its number within the builder (1, 2, …)'),
    builderid: int('builderid', 'the builder'),
    buildrequestid: int('buildrequestid', 'the request it was started for'),
    workerid: int('workerid', 'the worker it ran on', true),
    masterid: int('masterid', 'the master that ran it'),
    started_at: int('started_at', 'start, epoch seconds'),
    complete_at: int('complete_at', 'end, epoch seconds; null while running', true),
    complete: isSet('complete_at', 'whether it has finished'),
    state_string: str('state_string', 'what it is doing, or how it ended'),
    results: int('results', 'Buildbot result 0..6 (SUCCESS … CANCELLED); null while running', true),
  },
  paths: [
    {
      pattern: '/builds',
      params: {},
      collection: true,
      description: 'all builds, newest first',
      constraints: () => ({}),
      indexedOrder: ['buildid'],
    },
    {
      pattern: '/builds/:buildid',
      params: { buildid: 'integer' },
      collection: false,
      description: 'one build',
      constraints: (p) => ({ id: p.buildid! }),
    },
    {
      pattern: '/builders/:builderid/builds',
      params: { builderid: 'integer' },
      collection: true,
      description: 'a builder’s builds, newest first',
      constraints: (p) => ({ builderid: p.builderid! }),
      indexedOrder: ['number'],
    },
    {
      pattern: '/builders/:builderid/builds/:number',
      params: { builderid: 'integer', number: 'integer' },
      collection: false,
      description: 'a builder’s build by number',
      constraints: (p) => ({ builderid: p.builderid!, number: p.number! }),
    },
    {
      pattern: '/lastbuilds',
      params: {},
      collection: true,
      description: 'the latest build of every builder (one per builder that has builds)',
      constraints: async (_p, _lookup, data) => ({ id: await data.builds.lastOfEveryBuilder() }),
    },
    {
      pattern: '/lastfinishedbuilds',
      params: {},
      collection: true,
      description:
        'the latest finished build of every builder: its last result, even while a newer build runs',
      constraints: async (_p, _lookup, data) => ({
        id: await data.builds.lastOfEveryBuilder({ finished: true }),
      }),
    },
    {
      pattern: '/workers/:workerid/builds',
      params: { workerid: 'integer' },
      collection: true,
      description: 'the builds a worker ran, newest first',
      constraints: (p) => ({ workerid: p.workerid! }),
      indexedOrder: ['buildid'],
    },
    {
      pattern: '/buildrequests/:buildrequestid/builds',
      params: { buildrequestid: 'integer' },
      collection: true,
      description: 'the builds started for a request (more than one when retried)',
      constraints: (p) => ({ buildrequestid: p.buildrequestid! }),
    },
    {
      pattern: '/changes/:changeid/builds',
      params: { changeid: 'integer' },
      collection: true,
      description: 'the builds made for the change’s source stamp (the builds whose newest change it is)',
      constraints: async (p, _lookup, data) => {
        const ids = await buildIdsOfChange(data.ctx.db, p.changeid as number);
        return ids && { id: ids };
      },
    },
    {
      pattern: '/buildsets/:bsid/builds',
      params: { bsid: 'integer' },
      collection: true,
      description: 'the builds started for a buildset’s requests',
      constraints: async (p, _lookup, data) => {
        const ids = await buildIdsOfBuildset(data.ctx.db, p.bsid as number);
        return ids && { id: ids };
      },
    },
  ],
  topics: (b, what) => [`builds.${b.buildid}.${what}`, `builders.${b.builderid}.builds.${b.number}.${what}`],
};
