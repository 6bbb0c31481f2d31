// A small history for the data API tests: two builders, a worker, a change, finished and
// running builds with steps and logs, a bisection, and the concrete path that exercises every declared
// path pattern.
import type { DataLayer } from '../src/data/index.js';
import { FAILURE, SUCCESS } from '../src/results.js';

export interface ApiSeed {
  readonly masterid: number;
  readonly alpha: number;
  readonly beta: number;
  readonly workerid: number;
  /** `cloud-1`, a latent worker running after a failed start, stopped at 1,700,000,700 if idle. */
  readonly latentWorkerid: number;
  readonly changeid: number;
  readonly sourcestampid: number;
  readonly buildsetid: number;
  /** alpha's builds, oldest first; all finished but the last. */
  readonly alphaBuilds: readonly { buildid: number; number: number; buildrequestid: number }[];
  readonly stepid: number;
  readonly logid: number;
  /** The lines written to the stdio log, without stream letters. */
  readonly logLines: readonly string[];
  /** A step of alpha's first build that ran tests: 7 passed, 2 failed (`t.bad`, `t.worse`). */
  readonly testStepid: number;
  /** A reporter's delivery state (it has handled nothing yet). */
  readonly reporterid: number;
  /** `t.bad` in alpha's per-test history. */
  readonly testid: number;
  readonly annotationid: number;
  /** `nightly`, run by the master; `force` also exists, with a typed form. */
  readonly schedulerid: number;
  /** A git poller run by the master whose last poll failed. */
  readonly changesourceid: number;
}

export async function seedApiData(data: DataLayer): Promise<ApiSeed> {
  const { masterid } = await data.masters.register('api-master');
  const alpha = await data.builders.findOrCreate('alpha');
  const beta = await data.builders.findOrCreate('beta');
  await data.builders.update(alpha, { description: 'the first', tags: ['fast', 'linux'], project: 'demo' });
  await data.builders.setMasterBuilders(masterid, [alpha, beta]);
  const workerid = await data.workers.findOrCreate('linux-1');
  await data.workers.connected(workerid, masterid, { host: 'box', version: '3.7' });
  await data.workers.setConfigured(masterid, alpha, [workerid]);
  const latentWorkerid = await data.workers.findOrCreate('cloud-1');
  await data.latentWorkers.record(latentWorkerid, masterid, {
    state: 'running',
    lastStartError: 'start command "sh" exited with code 3',
    lastStartErrorAt: 1_700_000_000,
    missing: false,
    nextStartAt: null,
    idleStopAt: 1_700_000_700,
  });
  const changeid = await data.changes.add({
    author: 'dev <dev@example.org>',
    comments: 'fix the frobnicator',
    branch: 'main',
    revision: 'abc123',
    repository: 'https://example.org/repo.git',
    files: ['src/a.c', 'src/b.c'],
    properties: { ticket: 42 },
  });
  const sourcestampid = (await data.changes.get(changeid))!.sourcestampid;
  let buildsetid = 0;
  const alphaBuilds: { buildid: number; number: number; buildrequestid: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const bs = await data.buildsets.add({
      sourcestampids: [sourcestampid],
      builderids: [alpha, beta],
      reason: `r${i}`,
    });
    buildsetid = bs.buildsetid;
    const brid = bs.buildrequestids.get(alpha)!;
    await data.buildrequests.claim([brid], masterid);
    const b = await data.builds.add({ builderid: alpha, buildrequestid: brid, workerid, masterid });
    alphaBuilds.push({ ...b, buildrequestid: brid });
    if (i < 4) {
      await data.builds.finish(
        b.buildid,
        i === 2 ? FAILURE : SUCCESS,
        i === 2 ? 'failed test' : 'build successful',
      );
      await data.buildrequests.complete([brid], i === 2 ? FAILURE : SUCCESS, masterid);
    }
  }
  const testStepid = await seedFinishedBuildDetails(data, alphaBuilds[0]!.buildid);
  const reporterid = (await data.reportEvents.stateOf('mail', 0)).id;
  // The failed build (r2) with a finished bisection.
  const failed = alphaBuilds[2]!;
  await data.bisections.start(failed.buildid, alpha, [], 'bisecting 2 changes');
  await data.bisections.finish(failed.buildid, 'found', changeid, `first bad change ${changeid}`);
  const last = alphaBuilds.at(-1)!;
  const compile = await data.steps.add(last.buildid, 'compile');
  await data.steps.start(compile.stepid);
  await data.steps.addUrl(compile.stepid, 'report', 'http://example.org/r');
  await data.steps.finish(compile.stepid, SUCCESS);
  const test = await data.steps.add(last.buildid, 'test');
  await data.steps.start(test.stepid);
  const logid = await data.logs.add(compile.stepid, 'stdio', 's');
  const { testid, annotationid } = await seedTestHistory(data, alpha, alphaBuilds[0]!.buildid, testStepid);
  const logLines = Array.from({ length: 30 }, (_, i) => (i % 7 === 3 ? `warning: w${i}` : `line ${i}`));
  await data.logs.append(logid, logLines.map((l, i) => `${i % 2 ? 'e' : 'o'}${l}\n`).join(''));
  await data.logs.finish(logid);
  const { schedulerid, changesourceid } = await seedServiceRecords(data, masterid);
  return {
    masterid,
    alpha,
    beta,
    workerid,
    latentWorkerid,
    changeid,
    sourcestampid,
    buildsetid,
    alphaBuilds,
    stepid: compile.stepid,
    logid,
    logLines,
    testStepid,
    reporterid,
    testid,
    annotationid,
    schedulerid,
    changesourceid,
  };
}

/** The configured schedulers and change sources, as a master records them. */
async function seedServiceRecords(
  data: DataLayer,
  masterid: number,
): Promise<{ schedulerid: number; changesourceid: number }> {
  await data.serviceRecords.syncSchedulers(
    [
      { name: 'nightly', kind: 'Nightly', builderNames: ['alpha'], force: null },
      {
        name: 'force',
        kind: 'ForceScheduler',
        builderNames: ['alpha', 'beta'],
        force: {
          reasonRequired: true,
          anyProperties: false,
          parameters: [{ name: 'jobs', type: 'int', label: 'jobs', required: false, default: 4 }],
        },
      },
    ],
    new Map([
      ['nightly', { masterid, nextRunAt: 1_700_086_400, lastRunAt: 1_700_000_000 }],
      ['force', { masterid, nextRunAt: null, lastRunAt: null }],
    ]),
  );
  await data.serviceRecords.syncChangeSources(
    [{ name: 'GitPoller:https://example.org/repo.git', kind: 'git' }],
    new Map([['GitPoller:https://example.org/repo.git', { masterid }]]),
  );
  await data.serviceRecords.changeSourceActivity('GitPoller:https://example.org/repo.git', {
    polledAt: 1_700_000_500,
    changeAt: 1_700_000_400,
    error: { message: 'git fetch failed: connection refused', at: 1_700_000_500 },
  });
  const db = data.ctx.db;
  const scheduler = await db
    .selectFrom('schedulers')
    .select('id')
    .where('name', '=', 'nightly')
    .executeTakeFirstOrThrow();
  const source = await db.selectFrom('changesources').select('id').executeTakeFirstOrThrow();
  return { schedulerid: scheduler.id, changesourceid: source.id };
}

/** The unit step's tests in alpha's history, and an annotation on its build. */
async function seedTestHistory(
  data: DataLayer,
  builderid: number,
  buildid: number,
  stepid: number,
): Promise<{ testid: number; annotationid: number }> {
  const outcomes = [
    ...Array.from({ length: 7 }, (_, i) => ({ name: `t.ok${i}`, outcome: 'pass' as const })),
    { name: 't.bad', outcome: 'fail' as const },
    { name: 't.worse', outcome: 'fail' as const },
  ];
  await data.testHistory.record({
    builderid,
    buildid,
    stepid,
    revision: 'abc123',
    outcomes,
    muted: new Set(),
  });
  const names = await data.collection.rowsWhereIn('tests', ['id', 'name', 'builderid'], 'builderid', [
    builderid,
  ]);
  const testid = names.find((t) => t.name === 't.bad')!.id as number;
  const annotationid = await data.annotations.add({
    buildid,
    stepid,
    markdown: '**2 tests failed**',
    title: 'unit',
    style: 'error',
  });
  return { testid, annotationid };
}

/** Properties, metrics and test results of a finished build, as a Test step leaves them. */
async function seedFinishedBuildDetails(data: DataLayer, buildid: number): Promise<number> {
  await data.builds.setProperties(buildid, {
    got_revision: ['abc123', 'Git'],
    'tests-failed': [2, 'unit'],
    owners: [['dev@example.org'], 'Force'],
  });
  const unit = await data.steps.add(buildid, 'unit');
  await data.steps.start(unit.stepid);
  const failed = await data.logs.add(unit.stepid, 'failed tests', 's');
  await data.logs.append(failed, 'ot.bad\not.worse\n');
  await data.logs.finish(failed);
  await data.steps.finish(unit.stepid, FAILURE);
  await data.metrics.record(buildid, {
    'build.duration_s': 12.5,
    'step:unit:tests.passed': 7,
    'step:unit:tests.failed': 2,
    'step:unit:tests.skipped': 1,
    'step:unit:tests.todo': 0,
    'step:unit:tests.total': 10,
    'tests.failed': 2,
  });
  return unit.stepid;
}

/** A concrete path for every declared pattern, reading something that exists. */
export function examplePaths(s: ApiSeed): Record<string, string> {
  const last = s.alphaBuilds.at(-1)!;
  const first = s.alphaBuilds[0]!;
  return {
    '/masters': '/masters',
    '/masters/:masterid': `/masters/${s.masterid}`,
    '/builders': '/builders',
    '/builders/:builderid': `/builders/${s.alpha}`,
    '/builders/:name': '/builders/alpha',
    '/workers': '/workers',
    '/workers/:workerid': `/workers/${s.workerid}`,
    '/workers/:name': '/workers/linux-1',
    '/builds': '/builds',
    '/builds/:buildid': `/builds/${first.buildid}`,
    '/builders/:builderid/builds': `/builders/${s.alpha}/builds`,
    '/builders/:builderid/builds/:number': `/builders/${s.alpha}/builds/${first.number}`,
    '/lastbuilds': '/lastbuilds',
    '/lastbuilds/:count': '/lastbuilds/2',
    '/workers/:workerid/builds': `/workers/${s.workerid}/builds`,
    '/buildrequests/:buildrequestid/builds': `/buildrequests/${first.buildrequestid}/builds`,
    '/changes/:changeid/builds': `/changes/${s.changeid}/builds`,
    '/buildsets/:bsid/builds': `/buildsets/${s.buildsetid}/builds`,
    '/changes/:changeids/builds': `/changes/${s.changeid},999999/builds`,
    '/buildsets/:bsids/builds': `/buildsets/${s.buildsetid},999999/builds`,
    '/steps/:stepid': `/steps/${s.stepid}`,
    '/builds/:buildid/steps': `/builds/${last.buildid}/steps`,
    '/builds/:buildid/steps/:number': `/builds/${last.buildid}/steps/1`,
    '/builds/:buildid/steps/:name': `/builds/${last.buildid}/steps/compile`,
    '/builders/:builderid/builds/:build_number/steps': `/builders/${s.alpha}/builds/${last.number}/steps`,
    '/builders/:builderid/builds/:build_number/steps/:number': `/builders/${s.alpha}/builds/${last.number}/steps/0`,
    '/logs/:logid': `/logs/${s.logid}`,
    '/steps/:stepid/logs': `/steps/${s.stepid}/logs`,
    '/steps/:stepid/logs/:slug': `/steps/${s.stepid}/logs/stdio`,
    '/builds/:buildid/steps/:step_number/logs': `/builds/${last.buildid}/steps/0/logs`,
    '/builds/:buildid/steps/:step_number/logs/:slug': `/builds/${last.buildid}/steps/0/logs/stdio`,
    '/buildrequests': '/buildrequests',
    '/buildrequests/:buildrequestid': `/buildrequests/${first.buildrequestid}`,
    '/builders/:builderid/buildrequests': `/builders/${s.alpha}/buildrequests`,
    '/buildsets/:buildsetid/buildrequests': `/buildsets/${s.buildsetid}/buildrequests`,
    '/changes': '/changes',
    '/changes/:changeid': `/changes/${s.changeid}`,
    '/sourcestamps/:sourcestampid/changes': `/sourcestamps/${s.sourcestampid}/changes`,
    '/lastfinishedbuilds': '/lastfinishedbuilds',
    '/sourcestamps': '/sourcestamps',
    '/sourcestamps/:ssid': `/sourcestamps/${s.sourcestampid}`,
    '/buildsets/:buildsetid/sourcestamps': `/buildsets/${s.buildsetid}/sourcestamps`,
    '/buildsets': '/buildsets',
    '/buildsets/:bsid': `/buildsets/${s.buildsetid}`,
    '/builds/:buildid/properties': `/builds/${first.buildid}/properties`,
    '/builds/:buildid/properties/:name': `/builds/${first.buildid}/properties/got_revision`,
    '/builders/:builderid/builds/:build_number/properties': `/builders/${s.alpha}/builds/${first.number}/properties`,
    '/builds/:buildid/metrics': `/builds/${first.buildid}/metrics`,
    '/builders/:builderid/builds/:build_number/metrics': `/builders/${s.alpha}/builds/${first.number}/metrics`,
    '/builders/:builderid/metrics/:name': `/builders/${s.alpha}/metrics/tests.failed`,
    '/builds/:buildid/testresults': `/builds/${first.buildid}/testresults`,
    '/builders/:builderid/builds/:build_number/testresults': `/builders/${s.alpha}/builds/${first.number}/testresults`,
    '/steps/:stepid/testresults': `/steps/${s.testStepid}/testresults`,
    '/builds/:buildid/blamelist': `/builds/${last.buildid}/blamelist`,
    '/bisections': '/bisections',
    '/reporters': '/reporters',
    '/reporters/:reporterid': `/reporters/${s.reporterid}`,
    '/builds/:buildid/bisection': `/builds/${s.alphaBuilds[2]!.buildid}/bisection`,
    '/builders/:builderid/tests': `/builders/${s.alpha}/tests`,
    '/tests/:testid': `/tests/${s.testid}`,
    '/tests/:testid/runs': `/tests/${s.testid}/runs`,
    '/builds/:buildid/testruns': `/builds/${first.buildid}/testruns`,
    '/builds/:buildid/annotations': `/builds/${first.buildid}/annotations`,
    '/annotations/:annotationid': `/annotations/${s.annotationid}`,
    '/schedulers': '/schedulers',
    '/schedulers/:schedulerid': `/schedulers/${s.schedulerid}`,
    '/schedulers/:name': '/schedulers/nightly',
    '/masters/:masterid/schedulers': `/masters/${s.masterid}/schedulers`,
    '/forceschedulers': '/forceschedulers',
    '/forceschedulers/:name': '/forceschedulers/force',
    '/changesources': '/changesources',
    '/changesources/:changesourceid': `/changesources/${s.changesourceid}`,
    '/masters/:masterid/changesources': `/masters/${s.masterid}/changesources`,
  };
}
