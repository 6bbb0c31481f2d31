// Annotations (data/annotations.ts): Markdown steps attached to a build. The text is served
// as stored; rendering it (sanitised) is the client's job.
import type { ResourceType } from '../resource.js';
import { int, str } from './fields.js';

export const annotations: ResourceType = {
  name: 'annotation',
  plural: 'annotations',
  table: 'annotations',
  idField: 'annotationid',
  description: 'Markdown a step attached to its build (at most 1 MiB); untrusted text, render it sanitised.',
  fields: {
    annotationid: int('id', 'the annotation’s id'),
    buildid: int('buildid', 'the build'),
    stepid: int('stepid', 'the step that added it'),
    title: str('title', 'its title'),
    style: str('style', 'info, success, warning or error'),
    markdown: str('markdown', 'its Markdown text, as the step gave it'),
    created_at: int('created_at', 'when it was added, epoch seconds'),
  },
  paths: [
    {
      pattern: '/builds/:buildid/annotations',
      params: { buildid: 'integer' },
      collection: true,
      description: 'the annotations of a build, in the order added',
      constraints: (p) => ({ buildid: p.buildid! }),
    },
    {
      pattern: '/annotations/:annotationid',
      params: { annotationid: 'integer' },
      collection: false,
      description: 'one annotation',
      constraints: (p) => ({ id: p.annotationid! }),
    },
  ],
  topics: (a, what) => [`annotations.${a.annotationid}.${what}`, `builds.${a.buildid}.annotations.${what}`],
};
