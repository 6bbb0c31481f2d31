// Builds. History grows without bound here, so every collection path orders only by what
// an index serves: a builder's builds by number, a worker's by id, all builds by id.

import {
  buildIdsOfBuildset,
  buildIdsOfBuildsets,
  buildIdsOfChange,
  buildIdsOfChanges,
  buildsetIdsOfBuilds,
  changeIdsOfBuilds,
  MAX_AT_ONCE,
} from '../../data/build-links.js';
import { QueryError, type QuerySpec } from '../query.js';
import type { ResourceType } from '../resource.js';
import { computed, int, isSet, onlyWhenAsked, str } from './fields.js';

/** The most `/lastbuilds/:count` gives per builder. */
const MAX_LATEST = 25;
/** Within the values one SQL statement may bind (32,766 on SQLite): 1,000 builders × 25. */
const MAX_IDS = 30_000;

/** The builders an `eq`/`in` filter on `builderid` names, to narrow a computed id set. */
function builderids(spec: QuerySpec | undefined): number[] | undefined {
  const f = spec?.filters.find((f) => f.field === 'builderid' && (f.op === 'eq' || f.op === 'in'));
  return f?.values.map(Number);
}

/** An `integers` path param (`30,29,28`) as its ids, at most MAX_AT_ONCE of them. */
function idList(param: string, text: string): number[] {
  const ids = text.split(',').map(Number);
  if (ids.length > MAX_AT_ONCE)
    throw new QueryError(param, `${ids.length} ids are more than one read names (${MAX_AT_ONCE})`);
  return ids;
}

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
    changeids: onlyWhenAsked(
      computed('array', 'the changes it was made for (of its buildset’s source stamps)', {
        type: 'array',
        items: { type: 'integer' },
      }),
    ),
    buildsetid: onlyWhenAsked(computed('integer', 'the buildset it was started for')),
  },
  paths: [
    {
      pattern: '/builds',
      params: {},
      collection: true,
      description: 'all builds, newest first',
      constraints: () => ({}),
      indexedOrder: ['buildid'],
      // (masterid, complete_at) finds the unfinished builds; (workerid, id) and
      // buildrequestid a worker's or a request's.
      indexedFilters: ['complete', 'complete_at', 'workerid', 'buildrequestid'],
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
      pattern: '/lastbuilds/:count',
      params: { count: 'integer' },
      collection: true,
      description: `the latest \`count\` builds (1..${MAX_LATEST}) of every builder, or of those a \`builderid\` filter names: one read for a page of sparklines or a waterfall`,
      constraints: async (p, _lookup, data, spec) => {
        const count = p.count as number;
        if (count < 1 || count > MAX_LATEST)
          throw new QueryError('count', `the latest 1 to ${MAX_LATEST} builds of each builder, not ${count}`);
        const ids = await data.builds.latestOfBuilders(count, builderids(spec));
        if (ids.length > MAX_IDS)
          throw new QueryError(
            'builderid',
            `${ids.length} builds are more than one read returns (${MAX_IDS}): name fewer builders with builderid__in`,
            'builderid',
          );
        return { id: ids };
      },
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
      description:
        'the builds made for the change’s source stamp (the builds whose newest change it is); a `builderid`/`builderid__in` filter narrows them before the 500-build cut',
      constraints: async (p, _lookup, data, spec) => {
        const ids = await buildIdsOfChange(data.ctx.db, p.changeid as number, builderids(spec));
        return ids && { id: ids };
      },
    },
    {
      pattern: '/changes/:changeids/builds',
      params: { changeids: 'integers' },
      collection: true,
      description: `the builds of several changes in one read (\`/changes/30,29,28/builds\`, at most ${MAX_AT_ONCE}): those /changes/:changeid/builds gives for each, narrowed the same way by \`builderid\`/\`builderid__in\`; \`field=changeids\` tells which of them each was made for`,
      constraints: async (p, _lookup, data, spec) => {
        const ids = idList('changeids', String(p.changeids));
        return { id: await buildIdsOfChanges(data.ctx.db, ids, builderids(spec)) };
      },
    },
    {
      pattern: '/buildsets/:bsid/builds',
      params: { bsid: 'integer' },
      collection: true,
      description:
        'the builds started for a buildset’s requests; a `builderid`/`builderid__in` filter narrows them before the 500-build cut',
      constraints: async (p, _lookup, data, spec) => {
        const ids = await buildIdsOfBuildset(data.ctx.db, p.bsid as number, builderids(spec));
        return ids && { id: ids };
      },
    },
    {
      pattern: '/buildsets/:bsids/builds',
      params: { bsids: 'integers' },
      collection: true,
      description: `the builds of several buildsets in one read (\`/buildsets/30,29/builds\`, at most ${MAX_AT_ONCE}): those /buildsets/:bsid/builds gives for each, narrowed the same way; \`field=buildsetid\` tells which each was started for`,
      constraints: async (p, _lookup, data, spec) => {
        const ids = idList('bsids', String(p.bsids));
        return { id: await buildIdsOfBuildsets(data.ctx.db, ids, builderids(spec)) };
      },
    },
  ],
  complete: async (builds, fields, _read, data) => {
    const ids = builds.map((b) => b.buildid as number);
    if (fields.has('changeids')) {
      const changes = await changeIdsOfBuilds(data.ctx.db, ids);
      for (const b of builds) b.changeids = changes.get(b.buildid as number) ?? [];
    }
    if (fields.has('buildsetid')) {
      const sets = await buildsetIdsOfBuilds(data.ctx.db, ids);
      for (const b of builds) b.buildsetid = sets.get(b.buildid as number) ?? null;
    }
  },
  topics: (b, what) => [`builds.${b.buildid}.${what}`, `builders.${b.builderid}.builds.${b.number}.${what}`],
};
