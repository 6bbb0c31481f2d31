// Per-test history (data/test-history.ts): the tests a builder's Test steps reported, each
// with its last outcome, counts, flaky flag and quarantine, and each test's runs, one per
// step that ran it. Every read is an index search: a builder's tests on (builderid, name),
// a test's runs on (testid, id) or (testid, outcome, id), a build's on (buildid).
import { isFlaky } from '../../data/flaky-rules.js';
import type { FieldDecl, ResourceType } from '../resource.js';
import { flag, int, isSet, str } from './fields.js';

const computedFlag = (description: string): FieldDecl => ({
  type: 'boolean',
  description,
  source: { computed: true },
});

export const tests: ResourceType = {
  name: 'test',
  plural: 'tests',
  table: 'tests',
  idField: 'testid',
  description:
    'A test a builder’s Test steps reported (by name), with its last outcome, flaky state and quarantine.',
  fields: {
    testid: int('id', 'the test’s id'),
    builderid: int('builderid', 'the builder whose steps ran it'),
    name: str('name', 'its name as the test runner reported it (cut at 500 characters)'),
    last_outcome: str('last_outcome', 'pass, fail, skip or todo: its latest run'),
    last_buildid: int('last_buildid', 'the build of its latest run'),
    last_run_at: int('last_run_at', 'when its latest run was recorded, epoch seconds'),
    runs: int('runs', 'runs recorded'),
    failures: int('failures', 'failed runs recorded'),
    flaky_failures: int(
      'flaky_failures',
      'failures contradicted by a pass of the same revision within 14 days (the flakes)',
    ),
    flaky_until: int(
      'flaky_until',
      'epoch seconds the flaky flag lasts until (14 days after the last flake); null once cleared by 5 consecutive passes. Filter `flaky_until__gt=<now>` for the flaky tests',
      true,
    ),
    passes_since_flaky: int('passes_since_flaky', 'consecutive passes since the last flake'),
    muted: isSet('muted_at', 'whether the test is quarantined: its failures do not fail a build'),
    muted_by: str('muted_by', 'who muted it', true),
    muted_at: int('muted_at', 'when it was muted, epoch seconds', true),
    muted_reason: str('muted_reason', 'why it was muted', true),
    flaky: computedFlag('whether the test is flaky now'),
  },
  paths: [
    {
      pattern: '/builders/:builderid/tests',
      params: { builderid: 'integer' },
      collection: true,
      description:
        'the tests of a builder, by name (`order=name`); filter `flaky_until__gt`, `muted`, `name`',
      constraints: (p) => ({ builderid: p.builderid! }),
      indexedOrder: ['name'],
    },
    {
      pattern: '/tests/:testid',
      params: { testid: 'integer' },
      collection: false,
      description: 'one test',
      constraints: (p) => ({ id: p.testid! }),
    },
  ],
  async complete(resources, fields, _read, data) {
    if (!fields.has('flaky')) return;
    const now = data.ctx.now();
    for (const r of resources)
      r.flaky = isFlaky({ flakyUntil: r.flaky_until as number | null, passesSinceFlaky: 0 }, now);
  },
  topics: (t, what) => [`tests.${t.testid}.${what}`, `builders.${t.builderid}.tests.${t.testid}.${what}`],
};

export const testruns: ResourceType = {
  name: 'testrun',
  plural: 'testruns',
  table: 'test_runs',
  idField: 'testrunid',
  description: 'One run of a test: its outcome in one step of one build.',
  fields: {
    testrunid: int('id', 'the run’s id'),
    testid: int('testid', 'the test'),
    builderid: int('builderid', 'the builder'),
    buildid: int('buildid', 'the build'),
    stepid: int('stepid', 'the step that ran it'),
    outcome: str('outcome', 'pass, fail, skip or todo'),
    revision: str('revision', 'the revision built; null when unknown or patched', true),
    recorded_at: int('recorded_at', 'when it was recorded, epoch seconds'),
    contradicted: flag('contradicted', 'a failure a pass of the same revision contradicted: a flake'),
    muted: flag('muted', 'the test was quarantined when it ran: a failure did not fail the step'),
    build_number: {
      type: 'integer',
      description: 'the build’s number in its builder',
      source: { computed: true },
    },
  },
  paths: [
    {
      pattern: '/tests/:testid/runs',
      params: { testid: 'integer' },
      collection: true,
      description: 'a test’s history, newest first; `outcome=fail&limit=10` gives its last 10 failures',
      constraints: (p) => ({ testid: p.testid! }),
      indexedOrder: ['testrunid'],
    },
    {
      pattern: '/builds/:buildid/testruns',
      params: { buildid: 'integer' },
      collection: true,
      description: 'every test run of a build',
      constraints: (p) => ({ buildid: p.buildid! }),
    },
  ],
  async complete(resources, fields, read) {
    if (!fields.has('build_number')) return;
    const builds = await read('builds', ['id', 'number'], {
      column: 'id',
      values: [...new Set(resources.map((r) => r.buildid as number))],
    });
    const numbers = new Map(builds.map((b) => [b.id, b.number]));
    for (const r of resources) r.build_number = numbers.get(r.buildid);
  },
  topics: (r, what) => [`testruns.${r.testrunid}.${what}`, `tests.${r.testid}.runs.${r.testrunid}.${what}`],
};
