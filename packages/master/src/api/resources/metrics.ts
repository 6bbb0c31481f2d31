// Build metrics as the build records them when it ends (metrics/names.ts): durations,
// output lines, warning and test counts per step and for the build, and any number a step
// reports. A build's metrics are bounded by the build; one metric across a builder's
// history is read for its latest builds only, along the (name, buildid) index.
import type { ResourceType } from '../resource.js';
import { int, str } from './fields.js';
import { buildByNumber } from './lookups.js';

/** How far back `/builders/:builderid/metrics/:name` looks: the builder's latest builds. */
export const METRIC_HISTORY_BUILDS = 1000;

export const metrics: ResourceType = {
  name: 'metric',
  plural: 'metrics',
  table: 'build_metrics',
  idField: 'metricid',
  description:
    'A number a build recorded when it ended: `build.duration_s`, `warnings`, `tests.failed`, `step:<step>:duration_s`, `step:<step>:tests.passed`, …',
  fields: {
    metricid: int('id', 'the metric’s row id'),
    buildid: int('buildid', 'the build'),
    name: str('name', 'its name'),
    value: { type: 'number', description: 'its value', source: { column: 'value' } },
    recorded_at: int('recorded_at', 'when it was recorded, epoch seconds'),
  },
  paths: [
    {
      pattern: '/builds/:buildid/metrics',
      params: { buildid: 'integer' },
      collection: true,
      description: 'a build’s metrics',
      constraints: (p) => ({ buildid: p.buildid! }),
    },
    {
      pattern: '/builders/:builderid/builds/:build_number/metrics',
      params: { builderid: 'integer', build_number: 'integer' },
      collection: true,
      description: 'the metrics of a builder’s build by number',
      constraints: buildByNumber,
    },
    {
      pattern: '/builders/:builderid/metrics/:name',
      params: { builderid: 'integer', name: 'identifier' },
      collection: true,
      description: `one metric over the builder’s latest ${METRIC_HISTORY_BUILDS} builds, newest first (builds that did not record it give none)`,
      constraints: async (p, _lookup, data) => ({
        name: p.name!,
        buildid: await data.builds.latestIds(p.builderid as number, METRIC_HISTORY_BUILDS),
      }),
      indexedOrder: ['buildid'],
    },
  ],
  topics: (m, what) => [`builds.${m.buildid}.metrics.${m.name}.${what}`],
};
