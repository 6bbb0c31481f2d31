// Reports built directly, as a generator would hand them to a reporter.
import assert from 'node:assert/strict';
import type { BuildReport, DeliveryContext, ReportBuild, ReportChange } from '../src/reporters/report.js';
import { FAILURE } from '../src/results.js';

export function reportChange(overrides: Partial<ReportChange> = {}): ReportChange {
  return {
    changeid: 7,
    author: 'Ada Lovelace <ada@example.org>',
    email: 'ada@example.org',
    revision: '0123456789abcdef0123456789abcdef01234567',
    branch: 'main',
    repository: 'https://github.com/octo/widgets.git',
    comments: 'Speed up the loom',
    files: ['loom.c'],
    revlink: null,
    ...overrides,
  };
}

export function reportBuild(overrides: Partial<ReportBuild> = {}): ReportBuild {
  return {
    buildid: 41,
    number: 12,
    builderid: 3,
    builderName: 'linux',
    tags: [],
    results: FAILURE,
    stateString: 'failed test',
    startedAt: 1_800_000_000,
    completeAt: 1_800_000_100,
    workerName: 'w1',
    url: 'http://lathe.example.org/#/builders/3/builds/12',
    reason: 'scheduler',
    branch: 'main',
    revision: '0123456789abcdef0123456789abcdef01234567',
    repository: 'https://github.com/octo/widgets.git',
    project: 'widgets',
    properties: {},
    ...overrides,
  };
}

/** A finished (failed) build by default; `build` overrides the build's fields. */
export function buildReport(
  overrides: Partial<Omit<BuildReport, 'build'>> & { build?: Partial<ReportBuild> } = {},
): BuildReport {
  const { build, ...rest } = overrides;
  return {
    kind: 'build-finished',
    key: 'build-finished:41',
    at: 1_800_000_100,
    build: reportBuild(build),
    previousResults: 0,
    blamelist: [reportChange(), reportChange({ changeid: 8, author: 'Grace Hopper <grace@example.org>' })],
    failedSteps: [{ name: 'test', results: FAILURE, stateString: 'failed', logTail: ['FAIL loom'] }],
    bisection: null,
    ...rest,
  };
}

export interface TestContext extends DeliveryContext {
  readonly logged: string[];
}

export function deliveryContext(signal: AbortSignal = new AbortController().signal): TestContext {
  const logged: string[] = [];
  return { signal, attempt: 1, log: (level, message) => logged.push(`${level}: ${message}`), logged };
}

/** The error a delivery failed with; fails the test when it succeeded. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  assert.fail('expected the delivery to fail');
}
