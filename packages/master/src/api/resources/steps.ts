// Steps of a build: bounded by the build, so any order is served.
import type { ResourceType } from '../resource.js';
import { flag, int, isSet, json, str } from './fields.js';
import { buildByNumber, buildidOf } from './lookups.js';

export const steps: ResourceType = {
  name: 'step',
  plural: 'steps',
  table: 'steps',
  idField: 'stepid',
  description: 'One step of a build.',
  fields: {
    stepid: int('id', 'the step’s id'),
    number: int('number', 'its position in the build, from 0'),
    name: str('name', 'its name, unique within the build'),
    buildid: int('buildid', 'the build'),
    started_at: int('started_at', 'start, epoch seconds; null until it starts', true),
    complete_at: int('complete_at', 'end, epoch seconds; null until it ends', true),
    complete: isSet('complete_at', 'whether it has finished'),
    state_string: str('state_string', 'what it is doing, or its summary'),
    results: int('results', 'Buildbot result 0..6; null until it ends', true),
    urls: json('urls_json', 'array', 'links it added', {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, url: { type: 'string' } },
        required: ['name', 'url'],
      },
    }),
    hidden: flag('hidden', 'whether the UI hides it'),
  },
  paths: [
    {
      pattern: '/steps/:stepid',
      params: { stepid: 'integer' },
      collection: false,
      description: 'one step',
      constraints: (p) => ({ id: p.stepid! }),
    },
    {
      pattern: '/builds/:buildid/steps',
      params: { buildid: 'integer' },
      collection: true,
      description: 'a build’s steps',
      constraints: (p) => ({ buildid: p.buildid! }),
    },
    {
      pattern: '/builds/:buildid/steps/:number',
      params: { buildid: 'integer', number: 'integer' },
      collection: false,
      description: 'a build’s step by number',
      constraints: (p) => ({ buildid: p.buildid!, number: p.number! }),
    },
    {
      pattern: '/builds/:buildid/steps/:name',
      params: { buildid: 'integer', name: 'identifier' },
      collection: false,
      description: 'a build’s step by name',
      constraints: (p) => ({ buildid: p.buildid!, name: p.name! }),
    },
    {
      pattern: '/builders/:builderid/builds/:build_number/steps',
      params: { builderid: 'integer', build_number: 'integer' },
      collection: true,
      description: 'the steps of a builder’s build by number',
      constraints: buildByNumber,
    },
    {
      pattern: '/builders/:builderid/builds/:build_number/steps/:number',
      params: { builderid: 'integer', build_number: 'integer', number: 'integer' },
      collection: false,
      description: 'a step of a builder’s build by numbers',
      constraints: async (p, lookup) => {
        const buildid = await buildidOf(lookup, p.builderid as number, p.build_number as number);
        return buildid === undefined ? undefined : { buildid, number: p.number! };
      },
    },
  ],
  topics: (s, what) => [`steps.${s.stepid}.${what}`, `builds.${s.buildid}.steps.${s.number}.${what}`],
};
