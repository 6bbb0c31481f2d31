// Test results as the Test step records them: its counts become the build metrics
// `step:<step>:tests.<kind>` when the build ends (metrics/names.ts), and the failing names
// go to the step's `failed tests` log (steps/test.ts). One resource per step that ran tests,
// read from those, so nothing is stored twice. A build's steps and metrics are bounded by
// the build: every read is an index search on (buildid, …).

import type { DataLayer } from '../../data/index.js';
import { TEST_COUNT_KINDS } from '../../metrics/names.js';
import { FAILED_TESTS_LOG, FAILED_TESTS_TRUNCATED } from '../../steps/test.js';
import type { Constraints, FieldDecl, ResourceType } from '../resource.js';
import { int, str } from './fields.js';
import { buildByNumber } from './lookups.js';

const TOTAL_METRIC = /^step:(.*):tests\.total$/;

const count = (description: string): FieldDecl => ({
  type: 'integer',
  description,
  source: { computed: true },
});

/** The build's steps that recorded test counts, as `{ id: [stepid…] }`. */
async function testedSteps(data: DataLayer, buildid: number, onlyStep?: number): Promise<Constraints> {
  const names = (await data.collection.rowsWhereIn('build_metrics', ['name'], 'buildid', [buildid])).flatMap(
    (m) => TOTAL_METRIC.exec(m.name as string)?.[1] ?? [],
  );
  if (names.length === 0) return { id: [] };
  const steps = await data.collection.rowsWhereIn('steps', ['id', 'name'], 'buildid', [buildid]);
  const ids = steps.filter((s) => names.includes(s.name as string)).map((s) => s.id as number);
  return { id: onlyStep === undefined ? ids : ids.filter((id) => id === onlyStep) };
}

export const testresults: ResourceType = {
  name: 'testresult',
  plural: 'testresults',
  table: 'steps',
  idField: 'stepid',
  description:
    'The test counts and failing test names of a step that parsed a test runner’s output (recorded when the build ends).',
  fields: {
    stepid: int('id', 'the step'),
    buildid: int('buildid', 'the build'),
    step_number: int('number', 'the step’s number in the build'),
    step_name: str('name', 'the step’s name'),
    ...Object.fromEntries(TEST_COUNT_KINDS.map((k) => [k, count(`tests ${k}`)])),
    failed_tests: {
      type: 'array',
      description: 'names of the failing tests, in the order seen',
      source: { computed: true },
      schema: { type: 'array', items: { type: 'string' } },
    },
    failed_tests_truncated: {
      type: 'boolean',
      description: 'whether more tests failed than failed_tests names',
      source: { computed: true },
    },
  },
  paths: [
    {
      pattern: '/builds/:buildid/testresults',
      params: { buildid: 'integer' },
      collection: true,
      description: 'the test results of a build, one per step that ran tests',
      constraints: (p, _lookup, data) => testedSteps(data, p.buildid as number),
    },
    {
      pattern: '/builders/:builderid/builds/:build_number/testresults',
      params: { builderid: 'integer', build_number: 'integer' },
      collection: true,
      description: 'the test results of a builder’s build by number',
      constraints: async (p, lookup, data) => {
        const build = await buildByNumber(p, lookup);
        return build && testedSteps(data, build.buildid as number);
      },
    },
    {
      pattern: '/steps/:stepid/testresults',
      params: { stepid: 'integer' },
      collection: true,
      description: 'the test results of one step (empty when it ran no tests)',
      constraints: async (p, lookup, data) => {
        const step = await lookup('steps', { id: p.stepid! });
        return step && testedSteps(data, step.buildid as number, p.stepid as number);
      },
    },
  ],
  async complete(resources, fields, read, data) {
    // The step's build and name, even when `field=` did not ask for them.
    const ids = resources.map((r) => r.stepid as number);
    const steps = new Map(
      (await read('steps', ['id', 'buildid', 'name'], { column: 'id', values: ids })).map((s) => [s.id, s]),
    );
    const metrics = await read('build_metrics', ['buildid', 'name', 'value'], {
      column: 'buildid',
      values: [...steps.values()].map((s) => s.buildid as number),
    });
    const counts = (stepid: unknown): Record<string, number> => {
      const step = steps.get(stepid);
      const prefix = `step:${step?.name}:tests.`;
      return Object.fromEntries(
        TEST_COUNT_KINDS.map((kind) => [
          kind,
          (metrics.find((m) => m.buildid === step?.buildid && m.name === `${prefix}${kind}`)
            ?.value as number) ?? 0,
        ]),
      );
    };
    const logs =
      fields.has('failed_tests') || fields.has('failed_tests_truncated')
        ? (
            await read('logs', ['id', 'stepid', 'name', 'num_lines', 'type'], {
              column: 'stepid',
              values: ids,
            })
          ).filter((l) => l.name === FAILED_TESTS_LOG)
        : [];
    for (const r of resources) {
      const tally = counts(r.stepid);
      for (const kind of TEST_COUNT_KINDS) if (fields.has(kind)) r[kind] = tally[kind];
      if (!fields.has('failed_tests') && !fields.has('failed_tests_truncated')) continue;
      const log = logs.find((l) => l.stepid === r.stepid);
      const lines = log ? await data.logs.lines(log.id as number, 0, (log.num_lines as number) - 1) : [];
      const names = lines.map((l) => (log?.type === 's' ? l.slice(1) : l)).filter((l) => l !== '');
      const truncated = names.at(-1) === FAILED_TESTS_TRUNCATED;
      if (truncated) names.pop();
      if (fields.has('failed_tests')) r.failed_tests = names;
      if (fields.has('failed_tests_truncated'))
        r.failed_tests_truncated = truncated || (tally.failed ?? 0) > names.length;
    }
  },
  topics: (t, what) => [`testresults.${t.stepid}.${what}`],
};
