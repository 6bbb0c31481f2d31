// Force schedulers: the form each offers (typed parameters), what the web UI's force form
// renders, as Buildbot's resource of that name. Rows of the schedulers table.
import type { ResourceType } from '../resource.js';
import { flag, int, json, str } from './fields.js';

const FORCE = { kind: 'ForceScheduler' } as const;

export const forceschedulers: ResourceType = {
  name: 'forcescheduler',
  plural: 'forceschedulers',
  table: 'schedulers',
  idField: 'forceschedulerid',
  description: 'A force scheduler: the builders it can start and the parameters it asks for.',
  fields: {
    forceschedulerid: int('id', 'its id (the same as its schedulerid)'),
    name: str('name', 'its name in the config (`force` for the implicit one)'),
    builder_names: json('builder_names', 'array', 'the builders it can start', {
      type: 'array',
      items: { type: 'string' },
    }),
    reason_required: flag('reason_required', 'whether a reason must be given'),
    any_properties: flag('any_properties', 'whether it takes any property (the implicit one declares none)'),
    parameters: json(
      'parameters',
      'array',
      'its typed parameters: name, type (string, text, int, boolean, choice, nested), label, required, default, and regex (source), maxLength, min, max, choices, multiple, nested fields',
      {
        type: 'array',
        items: {
          type: 'object',
          properties: { name: { type: 'string' }, type: { type: 'string' }, label: { type: 'string' } },
          required: ['name', 'type'],
        },
      },
    ),
  },
  paths: [
    {
      pattern: '/forceschedulers',
      params: {},
      collection: true,
      description: 'every configured force scheduler',
      constraints: () => FORCE,
    },
    {
      pattern: '/forceschedulers/:name',
      params: { name: 'identifier' },
      collection: false,
      description: 'one force scheduler by name',
      constraints: (p) => ({ ...FORCE, name: p.name! }),
    },
  ],
  topics: (s, what) => [`forceschedulers.${s.forceschedulerid}.${what}`],
};
