// Changes reported by change sources, with their files and properties.
import type { ResourceType } from '../resource.js';
import { computed, int, str } from './fields.js';

export const changes: ResourceType = {
  name: 'change',
  plural: 'changes',
  table: 'changes',
  idField: 'changeid',
  description: 'A change to a repository that a change source reported.',
  fields: {
    changeid: int('id', 'the change’s id'),
    author: str('author', 'who wrote it'),
    committer: str('committer', 'who committed it', true),
    comments: str('comments', 'its message'),
    branch: str('branch', 'its branch', true),
    revision: str('revision', 'its revision', true),
    revlink: str('revlink', 'a link to the revision', true),
    when_timestamp: int('when_timestamp', 'when it was made, epoch seconds'),
    category: str('category', 'its category', true),
    repository: str('repository', 'its repository'),
    codebase: str('codebase', 'its codebase'),
    project: str('project', 'its project'),
    sourcestampid: int('sourcestampid', 'the source stamp it makes'),
    parent_changeid: int('parent_changeid', 'the change before it', true),
    files: computed('array', 'the files it touched', { type: 'array', items: { type: 'string' } }),
    properties: computed('object', 'its properties, { name: [value, source] }', { type: 'object' }),
  },
  paths: [
    {
      pattern: '/changes',
      params: {},
      collection: true,
      description: 'all changes, newest first',
      constraints: () => ({}),
      indexedOrder: ['changeid'],
      indexedFilters: ['branch'],
    },
    {
      pattern: '/changes/:changeid',
      params: { changeid: 'integer' },
      collection: false,
      description: 'one change',
      constraints: (p) => ({ id: p.changeid! }),
    },
    {
      pattern: '/sourcestamps/:sourcestampid/changes',
      params: { sourcestampid: 'integer' },
      collection: true,
      description: 'the changes that make a source stamp',
      constraints: (p) => ({ sourcestampid: p.sourcestampid! }),
    },
    {
      pattern: '/builds/:buildid/blamelist',
      params: { buildid: 'integer' },
      collection: true,
      description:
        'the changes since the last passing build of the same builder and branch: its own, those of the failing or unfinished builds in between and of requests that ended without a build',
      constraints: async (p, _lookup, data) => {
        const ids = await data.blame.changeids(p.buildid as number);
        return ids && { id: ids };
      },
    },
  ],
  async complete(resources, fields, read) {
    const ids = resources.map((r) => r.changeid as number);
    if (fields.has('files')) {
      const rows = await read('change_files', ['changeid', 'filename'], { column: 'changeid', values: ids });
      for (const r of resources)
        r.files = rows.filter((f) => f.changeid === r.changeid).map((f) => f.filename);
    }
    if (fields.has('properties')) {
      const rows = await read('change_properties', ['changeid', 'property_name', 'property_value'], {
        column: 'changeid',
        values: ids,
      });
      for (const r of resources) {
        const props: Record<string, unknown> = {};
        for (const p of rows)
          if (p.changeid === r.changeid)
            props[p.property_name as string] = JSON.parse(p.property_value as string);
        r.properties = props;
      }
    }
  },
  topics: (c, what) => [`changes.${c.changeid}.${what}`],
};
