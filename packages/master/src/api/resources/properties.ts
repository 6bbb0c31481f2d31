// A build's properties, one resource per property (Buildbot answers one object holding them
// all; a list of named resources takes the same query spec as every other collection:
// `?name=got_revision`). Bounded by the build, read along the (buildid, name) unique index.
import type { FieldDecl, ResourceType } from '../resource.js';
import { int, str } from './fields.js';
import { buildByNumber } from './lookups.js';

const anyJson: FieldDecl = {
  type: 'object',
  description: 'its value (any JSON value)',
  source: { column: 'value' },
  schema: {},
};

export const properties: ResourceType = {
  name: 'property',
  plural: 'properties',
  table: 'build_properties',
  idField: 'propertyid',
  description: 'A property of a build: its name, value and what set it.',
  fields: {
    propertyid: int('id', 'the property’s row id'),
    buildid: int('buildid', 'the build'),
    name: str('name', 'its name'),
    value: anyJson,
    source: str('source', 'what set it (a step, the scheduler, the worker, …)'),
  },
  paths: [
    {
      pattern: '/builds/:buildid/properties',
      params: { buildid: 'integer' },
      collection: true,
      description: 'a build’s properties',
      constraints: (p) => ({ buildid: p.buildid! }),
    },
    {
      pattern: '/builds/:buildid/properties/:name',
      params: { buildid: 'integer', name: 'identifier' },
      collection: false,
      description: 'one property of a build',
      constraints: (p) => ({ buildid: p.buildid!, name: p.name! }),
    },
    {
      pattern: '/builders/:builderid/builds/:build_number/properties',
      params: { builderid: 'integer', build_number: 'integer' },
      collection: true,
      description: 'the properties of a builder’s build by number',
      constraints: buildByNumber,
    },
  ],
  topics: (p, what) => [`builds.${p.buildid}.properties.${p.name}.${what}`],
};
