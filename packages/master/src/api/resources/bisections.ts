// Bisection verdicts (bisect/): recorded on the failing build they explain.
import type { ResourceType } from '../resource.js';
import { int, isSet, json, str } from './fields.js';

const suspectSchema = {
  type: 'object',
  properties: {
    changeid: { type: 'integer' },
    revision: { type: ['string', 'null'] },
    author: { type: 'string' },
    score: { type: 'integer' },
    files: { type: 'array', items: { type: 'string' } },
  },
};

const probeSchema = {
  type: 'object',
  properties: {
    changeid: { type: 'integer' },
    revision: { type: ['string', 'null'] },
    buildrequestid: { type: 'integer' },
    buildid: { type: ['integer', 'null'] },
    results: { type: ['integer', 'null'] },
    verdict: { type: 'string', enum: ['good', 'bad', 'unusable'] },
  },
};

export const bisections: ResourceType = {
  name: 'bisection',
  plural: 'bisections',
  table: 'bisections',
  idField: 'bisectionid',
  description:
    'The automatic bisection of a failed build (builders with `bisect: true`): suspects, builds, verdict.',
  fields: {
    bisectionid: int('id', 'the bisection’s id'),
    buildid: int('buildid', 'the failed build it explains'),
    builderid: int('builderid', 'the builder'),
    state: str('state', 'running, found, inconclusive or interrupted'),
    first_bad_changeid: int('first_bad_changeid', 'the first bad change, once found', true),
    summary: str('summary', 'the verdict in words'),
    suspects: json('suspects', 'array', 'changes whose files the failing step’s output names, best first', {
      type: 'array',
      items: suspectSchema,
    }),
    evidence: json('evidence', 'array', 'the bisection builds in the order they ran, with their results', {
      type: 'array',
      items: probeSchema,
    }),
    started_at: int('started_at', 'start, epoch seconds'),
    complete_at: int('complete_at', 'end, epoch seconds; null while running', true),
    complete: isSet('complete_at', 'whether it has ended'),
  },
  paths: [
    {
      pattern: '/bisections',
      params: {},
      collection: true,
      description: 'all bisections, newest first',
      constraints: () => ({}),
      indexedOrder: ['bisectionid'],
    },
    {
      pattern: '/builds/:buildid/bisection',
      params: { buildid: 'integer' },
      collection: false,
      description: 'the bisection of a failed build',
      constraints: (p) => ({ buildid: p.buildid! }),
    },
  ],
  topics: (b, what) => [`bisections.${b.bisectionid}.${what}`, `builds.${b.buildid}.bisection.${what}`],
};
