// Buildsets: one submission of sources to one or more builders (a scheduler's or a force's),
// complete once all its requests are. History grows here, so collections order by id only.
import type { ResourceType } from '../resource.js';
import { computed, flag, int, str } from './fields.js';

const STAMP_COLUMNS = ['id', 'branch', 'revision', 'repository', 'codebase', 'project', 'created_at'];

export const buildsets: ResourceType = {
  name: 'buildset',
  plural: 'buildsets',
  table: 'buildsets',
  idField: 'bsid',
  description: 'A submission of sources to one or more builders: one build request per builder.',
  fields: {
    bsid: int('id', 'the buildset’s id'),
    external_idstring: str('external_idstring', 'an id given by whoever submitted it', true),
    reason: str('reason', 'why it was submitted', true),
    submitted_at: int('submitted_at', 'when, epoch seconds'),
    complete: flag('complete', 'whether every request of it is complete'),
    complete_at: int('complete_at', 'when it completed, epoch seconds', true),
    results: int('results', 'the worst result of its requests, once complete', true),
    parent_buildid: int('parent_buildid', 'the build that triggered it', true),
    parent_relationship: str('parent_relationship', 'how it relates to that build', true),
    sourcestamps: computed('array', 'its source stamps (without patches: see /sourcestamps/:ssid)', {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          ssid: { type: 'integer' },
          branch: { type: ['string', 'null'] },
          revision: { type: ['string', 'null'] },
          repository: { type: 'string' },
          codebase: { type: 'string' },
          project: { type: 'string' },
          created_at: { type: 'integer' },
        },
        required: ['ssid', 'branch', 'revision', 'repository', 'codebase', 'project', 'created_at'],
        additionalProperties: false,
      },
    }),
  },
  paths: [
    {
      pattern: '/buildsets',
      params: {},
      collection: true,
      description: 'all buildsets, newest first',
      constraints: () => ({}),
      indexedOrder: ['bsid'],
    },
    {
      pattern: '/buildsets/:bsid',
      params: { bsid: 'integer' },
      collection: false,
      description: 'one buildset',
      constraints: (p) => ({ id: p.bsid! }),
    },
  ],
  async complete(resources, fields, read) {
    if (!fields.has('sourcestamps')) return;
    const links = await read('buildset_sourcestamps', ['buildsetid', 'sourcestampid'], {
      column: 'buildsetid',
      values: resources.map((r) => r.bsid as number),
    });
    const stamps =
      links.length === 0
        ? []
        : await read('sourcestamps', STAMP_COLUMNS, {
            column: 'id',
            values: links.map((l) => l.sourcestampid as number),
          });
    const byId = new Map(stamps.map(({ id, ...rest }) => [id, { ssid: id, ...rest }]));
    for (const r of resources)
      r.sourcestamps = links
        .filter((l) => l.buildsetid === r.bsid)
        .flatMap((l) => {
          const stamp = byId.get(l.sourcestampid);
          return stamp ? [stamp] : [];
        });
  },
  topics: (b, what) => [`buildsets.${b.bsid}.${what}`],
};
