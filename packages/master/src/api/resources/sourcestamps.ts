// Source stamps: what was built (repository, branch, revision, patch). Shared by every
// buildset and change that names the same sources, and growing with history, so the
// top-level collection orders by id only.
import type { ResourceType } from '../resource.js';
import { computed, int, str } from './fields.js';

const PATCH_SCHEMA = {
  type: ['object', 'null'],
  properties: {
    patchid: { type: 'integer' },
    level: { type: 'integer' },
    subdir: { type: ['string', 'null'] },
    author: { type: ['string', 'null'] },
    comment: { type: ['string', 'null'] },
    body: { type: 'string', description: 'the patch, base64' },
  },
  required: ['patchid', 'level', 'subdir', 'author', 'comment', 'body'],
  additionalProperties: false,
};

export const sourcestamps: ResourceType = {
  name: 'sourcestamp',
  plural: 'sourcestamps',
  table: 'sourcestamps',
  idField: 'ssid',
  description: 'The sources a build ran on: repository, branch, revision and an optional patch.',
  fields: {
    ssid: int('id', 'the source stamp’s id'),
    branch: str('branch', 'its branch', true),
    revision: str('revision', 'its revision; null means the branch’s latest', true),
    repository: str('repository', 'its repository'),
    codebase: str('codebase', 'its codebase'),
    project: str('project', 'its project'),
    created_at: int('created_at', 'when it was first recorded, epoch seconds'),
    patch: computed('object', 'the patch applied on top, or null', PATCH_SCHEMA),
  },
  paths: [
    {
      pattern: '/sourcestamps',
      params: {},
      collection: true,
      description: 'all source stamps, newest first',
      constraints: () => ({}),
      indexedOrder: ['ssid'],
    },
    {
      pattern: '/sourcestamps/:ssid',
      params: { ssid: 'integer' },
      collection: false,
      description: 'one source stamp',
      constraints: (p) => ({ id: p.ssid! }),
    },
    {
      pattern: '/buildsets/:buildsetid/sourcestamps',
      params: { buildsetid: 'integer' },
      collection: true,
      description: 'the source stamps of a buildset (one per codebase)',
      constraints: async (p, _lookup, data) => ({
        id: (
          await data.collection.rowsWhereIn('buildset_sourcestamps', ['sourcestampid'], 'buildsetid', [
            p.buildsetid!,
          ])
        ).map((r) => r.sourcestampid as number),
      }),
    },
  ],
  async complete(resources, fields, read) {
    if (!fields.has('patch')) return;
    const stamps = await read('sourcestamps', ['id', 'patchid'], {
      column: 'id',
      values: resources.map((r) => r.ssid as number),
    });
    const patchOf = new Map(stamps.map((s) => [s.id, s.patchid as number | null]));
    const patchids = stamps.flatMap((s) => (s.patchid === null ? [] : [s.patchid as number]));
    const patches =
      patchids.length === 0
        ? []
        : await read(
            'patches',
            ['id', 'patchlevel', 'patch_base64', 'patch_author', 'patch_comment', 'subdir'],
            {
              column: 'id',
              values: patchids,
            },
          );
    for (const r of resources) {
      const p = patches.find((row) => row.id === patchOf.get(r.ssid));
      r.patch = p
        ? {
            patchid: p.id,
            level: p.patchlevel,
            subdir: p.subdir,
            author: p.patch_author,
            comment: p.patch_comment,
            body: p.patch_base64,
          }
        : null;
    }
  },
  topics: (s, what) => [`sourcestamps.${s.ssid}.${what}`],
};
