// Logs of a step. Their content is read through /logs/:logid/contents, /raw and /search
// (api/log-content.ts), not as a field.
import type { ResourceType } from '../resource.js';
import { flag, int, str } from './fields.js';

export const logs: ResourceType = {
  name: 'log',
  plural: 'logs',
  table: 'logs',
  idField: 'logid',
  description: 'A log of a step: its output, or a text a step wrote.',
  fields: {
    logid: int('id', 'the log’s id'),
    name: str('name', 'its name (`stdio`, a logfile’s name, …)'),
    slug: str('slug', 'its name made safe for URLs, unique within the step'),
    stepid: int('stepid', 'the step'),
    complete: flag('complete', 'whether it is finished'),
    num_lines: int('num_lines', 'lines so far'),
    type: str(
      'type',
      "'s' stdio (each line starts with its stream o/e/h), 't' text, 'h' html, 'd' content deleted",
    ),
  },
  paths: [
    {
      pattern: '/logs/:logid',
      params: { logid: 'integer' },
      collection: false,
      description: 'one log',
      constraints: (p) => ({ id: p.logid! }),
    },
    {
      pattern: '/steps/:stepid/logs',
      params: { stepid: 'integer' },
      collection: true,
      description: 'a step’s logs',
      constraints: (p) => ({ stepid: p.stepid! }),
    },
    {
      pattern: '/steps/:stepid/logs/:slug',
      params: { stepid: 'integer', slug: 'identifier' },
      collection: false,
      description: 'a step’s log by slug',
      constraints: (p) => ({ stepid: p.stepid!, slug: p.slug! }),
    },
    {
      pattern: '/builds/:buildid/steps/:step_number/logs',
      params: { buildid: 'integer', step_number: 'integer' },
      collection: true,
      description: 'the logs of a build’s step by number',
      constraints: async (p, lookup) => {
        const step = await lookup('steps', { buildid: p.buildid!, number: p.step_number! });
        return step ? { stepid: step.stepid as number } : undefined;
      },
    },
    {
      pattern: '/builds/:buildid/steps/:step_number/logs/:slug',
      params: { buildid: 'integer', step_number: 'integer', slug: 'identifier' },
      collection: false,
      description: 'a log of a build’s step by number and slug',
      constraints: async (p, lookup) => {
        const step = await lookup('steps', { buildid: p.buildid!, number: p.step_number! });
        return step ? { stepid: step.stepid as number, slug: p.slug! } : undefined;
      },
    },
  ],
  topics: (l, what) => [`logs.${l.logid}.${what}`, `steps.${l.stepid}.logs.${l.slug}.${what}`],
};
