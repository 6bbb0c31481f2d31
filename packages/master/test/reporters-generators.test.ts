// Generators: which events become reports (modes, filters) and what the reports say, read
// from a real database the way the build runner fills it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildStartedGenerator,
  buildStatusGenerator,
  buildsetStatusGenerator,
  matchesMode,
  type ReportGenerator,
  type ReportMode,
  workerMissingGenerator,
} from '../src/reporters/generators.js';
import { ReportReader } from '../src/reporters/read.js';
import type { Report } from '../src/reporters/report.js';
import { EXCEPTION, FAILURE, type Result, SUCCESS, WARNINGS } from '../src/results.js';
import { openData, type TestData, tempDir } from './helpers.js';
import { recordBuild } from './report-history.js';

const S = SUCCESS;
const W = WARNINGS;
const F = FAILURE;
const E = EXCEPTION;

describe('report modes', () => {
  // [mode, results, previous, reported]
  const table: [ReportMode, Result, Result | null, boolean][] = [
    ['all', S, null, true],
    ['all', E, F, true],
    ['failing', F, F, true],
    ['failing', W, S, false],
    ['failing', E, S, false],
    ['passing', S, F, true],
    ['passing', W, S, false],
    ['problem', F, S, true],
    ['problem', F, W, true],
    ['problem', F, F, false],
    ['problem', F, null, false],
    ['problem', S, S, false],
    ['change', S, F, true],
    ['change', F, S, true],
    ['change', F, F, false],
    ['change', S, null, false],
    ['warnings', W, W, true],
    ['warnings', F, S, true],
    ['warnings', S, W, false],
    ['exception', E, S, true],
    ['exception', F, S, false],
  ];
  for (const [mode, results, previous, reported] of table)
    it(`${mode}: ${results} after ${previous} → ${reported ? 'reported' : 'not reported'}`, () => {
      assert.equal(matchesMode(mode, results, previous), reported);
    });
  it('several modes report when any does', () => {
    assert.equal(matchesMode(['passing', 'exception'], E, S), true);
    assert.equal(matchesMode(['passing', 'exception'], F, S), false);
  });
});

describe('generators on the outbox', () => {
  const dir = tempDir('lathe-generators-');
  let t: TestData;
  let reader: ReportReader;
  let masterid = 0;
  before(async () => {
    t = await openData(join(dir.path, 'state.sqlite'));
    masterid = (await t.data.masters.register('gen-test')).masterid;
    reader = new ReportReader(
      t.data,
      () => 'https://ci.example.org/',
      (w) => (w === 'w9' ? ['ops@example.org'] : []),
    );
  });
  after(async () => {
    await t.close();
    dir.cleanup();
  });

  /** The reports a generator makes of every outbox event after `since`. */
  async function run(generator: ReportGenerator, since: number): Promise<Report[]> {
    const out: Report[] = [];
    for (const event of await t.data.reportEvents.after(since, 1000)) {
      if (!generator.events.includes(event.kind)) continue;
      const r = await generator.generate(event, reader, `k${event.id}`);
      if (r) out.push(r);
    }
    return out;
  }

  it('every build start, finish and buildset completion is in the outbox, in order', async () => {
    const since = await t.data.reportEvents.lastId();
    const b = await recordBuild(t.data, masterid, {
      builder: 'lin',
      author: 'a <a@x.org>',
      results: SUCCESS,
    });
    const events = await t.data.reportEvents.after(since, 100);
    assert.deepEqual(
      events.map((e) => [e.kind, e.subjectId]),
      [
        ['build-started', b.buildid],
        ['build-finished', b.buildid],
        ['buildset-finished', events[2]!.subjectId],
      ],
    );
  });

  it('build status: mode and filters by builder, tag, branch, project and result', async () => {
    const since = await t.data.reportEvents.lastId();
    const ok = await recordBuild(t.data, masterid, {
      builder: 'lin',
      author: 'a',
      results: SUCCESS,
      tags: ['os'],
    });
    const bad = await recordBuild(t.data, masterid, {
      builder: 'lin',
      author: 'Bob <bob@x.org>',
      results: FAILURE,
      output: ['boom'],
    });
    const devBad = await recordBuild(t.data, masterid, {
      builder: 'lin',
      author: 'c',
      results: FAILURE,
      branch: 'dev',
    });
    await recordBuild(t.data, masterid, { builder: 'win', author: 'd', results: FAILURE });
    const numbers = async (g: ReportGenerator) =>
      (await run(g, since)).map((r) =>
        r.kind === 'build-finished' ? `${r.build.builderName}#${r.build.number}` : '?',
      );

    assert.deepEqual(await numbers(buildStatusGenerator({ mode: 'problem' })), [`lin#${bad.number}`]);
    assert.deepEqual(await numbers(buildStatusGenerator({ mode: 'failing', builders: ['lin'] })), [
      `lin#${bad.number}`,
      `lin#${devBad.number}`,
    ]);
    assert.deepEqual(await numbers(buildStatusGenerator({ branches: ['dev'] })), [`lin#${devBad.number}`]);
    assert.deepEqual(await numbers(buildStatusGenerator({ tags: ['os'] })), [
      `lin#${ok.number}`,
      `lin#${bad.number}`,
      `lin#${devBad.number}`,
    ]);
    assert.deepEqual(await numbers(buildStatusGenerator({ projects: ['nope'] })), []);
    assert.deepEqual(await numbers(buildStatusGenerator({ results: [SUCCESS] })), [`lin#${ok.number}`]);
    // 'change' compares with the previous build on the same branch: dev's first build has none.
    assert.deepEqual(await numbers(buildStatusGenerator({ mode: 'change', builders: ['lin'] })), [
      `lin#${bad.number}`,
    ]);

    const [report] = await run(
      buildStatusGenerator({ mode: 'failing', branches: ['main'], builders: ['lin'] }),
      since,
    );
    assert.equal(report?.kind, 'build-finished');
    if (report?.kind !== 'build-finished') return;
    assert.equal(
      report.key,
      `k${(await t.data.reportEvents.after(since, 100)).find((e) => e.kind === 'build-finished' && e.subjectId === bad.buildid)!.id}`,
    );
    assert.equal(report.previousResults, SUCCESS);
    assert.deepEqual(
      report.blamelist.map((c) => [c.author, c.email]),
      [['Bob <bob@x.org>', 'bob@x.org']],
    );
    assert.deepEqual(
      report.failedSteps.map((s) => [s.name, s.results, s.logTail]),
      [['compile', FAILURE, ['boom', 'done']]],
    );
    assert.equal(
      report.build.url,
      `https://ci.example.org/#/builders/${report.build.builderid}/builds/${bad.number}`,
    );
    assert.equal(report.build.branch, 'main');
    assert.deepEqual(report.build.tags, ['os']);
  });

  it('build started and buildset finished', async () => {
    const since = await t.data.reportEvents.lastId();
    const b = await recordBuild(t.data, masterid, { builder: 'mac', author: 'e', results: WARNINGS });
    const started = await run(buildStartedGenerator({ builders: ['mac'] }), since);
    assert.deepEqual(
      started.map((r) => r.kind === 'build-started' && [r.build.number, r.build.results]),
      [[b.number, null]],
    );
    assert.equal((await run(buildStartedGenerator({ builders: ['lin'] }), since)).length, 0);
    const sets = await run(buildsetStatusGenerator({ mode: 'warnings' }), since);
    assert.equal(sets.length, 1);
    assert.equal(sets[0]!.kind === 'buildset-finished' && sets[0]!.builds[0]!.buildid, b.buildid);
    assert.equal((await run(buildsetStatusGenerator({ mode: 'failing' }), since)).length, 0);
  });

  it('worker missing: once per absence, to the worker’s notify list', async () => {
    const since = await t.data.reportEvents.lastId();
    const workerid = await t.data.workers.findOrCreate('w9');
    const { lastSeen } = await t.data.reportEvents.lastSeen('w9');
    assert.equal(await t.data.reportEvents.reportMissing({ name: 'w9', workerid, lastSeen }), true);
    assert.equal(
      await t.data.reportEvents.reportMissing({ name: 'w9', workerid, lastSeen }),
      false,
      'reported once',
    );
    const reports = await run(workerMissingGenerator(), since);
    assert.equal(reports.length, 1);
    const r = reports[0]!;
    assert.ok(r.kind === 'worker-missing');
    if (r.kind !== 'worker-missing') return;
    assert.equal(r.workerName, 'w9');
    assert.deepEqual(r.notify, ['ops@example.org']);
    assert.equal((await run(workerMissingGenerator({ workers: ['other'] }), since)).length, 0);
    // Seen again: a later absence is a new report.
    await t.data.reportEvents.workersSeen(['w9']);
    assert.equal((await t.data.reportEvents.lastSeen('w9')).reported, false);
  });

  it('worker missing: a latent worker that could not be started, once per absence', async () => {
    const since = await t.data.reportEvents.lastId();
    const workerid = await t.data.workers.findOrCreate('cloud9');
    const startFailure = {
      attempts: 3,
      since: 1_800_000_000,
      error: 'start command "sh" exited with code 4',
    };
    const report = (failure = startFailure) =>
      t.data.reportEvents.reportMissing({ name: 'cloud9', workerid, startFailure: failure });
    assert.equal(await report(), true);
    assert.equal(await report({ ...startFailure, since: 1_800_000_600 }), false, 'the same absence');
    const [r] = await run(workerMissingGenerator(), since);
    assert.ok(r?.kind === 'worker-missing');
    if (r.kind !== 'worker-missing') return;
    assert.equal(r.workerName, 'cloud9');
    assert.equal(r.lastSeen, null, 'never connected');
    assert.deepEqual(r.startFailure, { attempts: 3, error: startFailure.error });
    // Connected once, then failing again: a new absence, last seen when it was connected.
    await t.data.reportEvents.workersSeen(['cloud9']);
    const { lastSeen } = await t.data.reportEvents.lastSeen('cloud9');
    assert.equal(await report(), true);
    const reports = await run(workerMissingGenerator(), since);
    assert.equal(reports.length, 2);
    assert.ok(reports[1]!.kind === 'worker-missing' && reports[1]!.lastSeen === lastSeen);
  });
});
