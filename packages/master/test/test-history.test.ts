// The per-test history's rules on a real SQLite database with a controlled clock: a failure
// is a flake when a pass of the same test and revision lies within 14 days of it (either
// order), only that failure counts, and the flag clears after 5 consecutive passes or 14
// days after the last flake. Plus the quarantine rules the Test step applies.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { DataApi } from '../src/api/data-api.js';
import { FLAKY_WINDOW_SECONDS } from '../src/data/flaky-rules.js';
import type { DataLayer } from '../src/data/index.js';
import { MuteReasonError } from '../src/data/test-history.js';
import type { Outcome, TestSummary } from '../src/logparsers/summary.js';
import { mutedFailures } from '../src/steps/test.js';
import { openData, type TestData, tempDir } from './helpers.js';

const DAY = 24 * 3600;

describe('per-test history: flaky detection and quarantine (real SQLite)', () => {
  const dir = tempDir('lathe-test-history-');
  let db: TestData;
  let data: DataLayer;
  let now = 1_800_000_000;
  let builderid: number;
  let masterid: number;
  let n = 0;

  beforeEach(async () => {
    db = await openData(join(dir.path, `h${n++}.sqlite`), () => now);
    data = db.data;
    ({ masterid } = await data.masters.register('m'));
    builderid = await data.builders.findOrCreate('unit');
  });

  after(() => dir.cleanup());

  /** One build of `unit` whose Test step reported these outcomes on `revision`. */
  async function run(revision: string | null, outcomes: Record<string, Outcome>, muted: string[] = []) {
    const ss = await data.sourcestamps.findOrCreate({ revision: revision ?? null, repository: 'r' });
    const bs = await data.buildsets.add({ sourcestampids: [ss], builderids: [builderid], reason: 'r' });
    const brid = bs.buildrequestids.get(builderid)!;
    await data.buildrequests.claim([brid], masterid);
    const { buildid } = await data.builds.add({ builderid, buildrequestid: brid, workerid: null, masterid });
    const { stepid } = await data.steps.add(buildid, 'test');
    await data.testHistory.record({
      builderid,
      buildid,
      stepid,
      revision,
      outcomes: Object.entries(outcomes).map(([name, outcome]) => ({ name, outcome })),
      muted: new Set(muted),
    });
    return buildid;
  }

  async function read(path: string, query: Record<string, string>, plural: string) {
    return (await new DataApi(data).get(path, query))[plural] as Record<string, unknown>[];
  }

  async function test(name: string) {
    const tests = await read(`/builders/${builderid}/tests`, { name }, 'tests');
    assert.equal(tests.length, 1, `test ${name} listed`);
    return tests[0]!;
  }

  async function runsOf(name: string) {
    return read(`/tests/${(await test(name)).testid}/runs`, { order: 'testrunid' }, 'testruns');
  }

  it('a failure then a pass on the same revision flags the test; only the failure counts', async () => {
    await run('r1', { 'a > flaky': 'fail', steady: 'pass', broken: 'fail' });
    now += 3600;
    await run('r1', { 'a > flaky': 'pass', steady: 'pass', broken: 'fail' });
    const flaky = await test('a > flaky');
    assert.equal(flaky.flaky, true);
    assert.equal(flaky.flaky_failures, 1);
    assert.equal(flaky.failures, 1);
    assert.equal(flaky.runs, 2);
    assert.equal(flaky.last_outcome, 'pass');
    assert.deepEqual(
      (await runsOf('a > flaky')).map((r) => [r.outcome, r.contradicted, r.revision]),
      [
        ['fail', true, 'r1'],
        ['pass', false, 'r1'],
      ],
    );
    // Failing twice on a revision with no pass is a plain failure, however often.
    assert.equal((await test('broken')).flaky, false);
    assert.equal((await test('broken')).flaky_failures, 0);
    assert.equal((await test('steady')).flaky, false);
    // The flaky filter of the list is an ordinary filter on flaky_until.
    const listed = await read(`/builders/${builderid}/tests`, { flaky_until__gt: String(now) }, 'tests');
    assert.deepEqual(
      listed.map((t) => t.name),
      ['a > flaky'],
    );
  });

  it('a pass then a failure on the same revision: the failure is the flake', async () => {
    await run('r1', { t: 'pass' });
    now += 60;
    await run('r1', { t: 'fail' });
    assert.equal((await test('t')).flaky, true);
    assert.deepEqual(
      (await runsOf('t')).map((r) => r.contradicted),
      [false, true],
    );
  });

  it('different revisions, or no known revision, never contradict each other', async () => {
    await run('r1', { t: 'pass' });
    await run('r2', { t: 'fail' });
    await run(null, { t: 'pass' });
    await run(null, { t: 'fail' });
    assert.equal((await test('t')).flaky, false);
    assert.equal((await test('t')).failures, 2);
  });

  it('only runs within 14 days of each other count, and the flag lasts 14 days', async () => {
    await run('r1', { old: 'pass', recent: 'pass' });
    now += FLAKY_WINDOW_SECONDS + DAY;
    await run('r1', { old: 'fail' });
    assert.equal((await test('old')).flaky, false, 'a pass 15 days before is too old to contradict');
    await run('r2', { recent: 'fail' });
    now += 13 * DAY;
    await run('r2', { recent: 'pass' });
    assert.equal((await test('recent')).flaky, true, 'a pass 13 days later contradicts');
    now += FLAKY_WINDOW_SECONDS - 1;
    assert.equal((await test('recent')).flaky, true);
    now += 2;
    assert.equal((await test('recent')).flaky, false, 'expired 14 days after the flake');
  });

  it('5 consecutive passes clear the flag; a failure in between starts the count again', async () => {
    await run('r1', { t: 'fail' });
    await run('r1', { t: 'pass' });
    for (let i = 0; i < 4; i++) await run(`p${i}`, { t: 'pass' });
    assert.equal((await test('t')).flaky, true, '4 passes are not enough');
    await run('x', { t: 'fail' });
    assert.equal((await test('t')).passes_since_flaky, 0);
    for (let i = 0; i < 4; i++) await run(`q${i}`, { t: 'pass' });
    assert.equal((await test('t')).flaky, true);
    await run('q4', { t: 'pass' });
    const cleared = await test('t');
    assert.equal(cleared.flaky, false);
    assert.equal(cleared.flaky_until, null);
    // The history keeps the flake.
    assert.equal(cleared.flaky_failures, 1);
  });

  it('a skipped run neither clears nor resets the flag', async () => {
    await run('r1', { t: 'fail' });
    await run('r1', { t: 'pass' });
    for (let i = 0; i < 4; i++) await run(`p${i}`, { t: 'pass' });
    await run('s', { t: 'skip' });
    assert.equal((await test('t')).passes_since_flaky, 4);
    await run('p5', { t: 'pass' });
    assert.equal((await test('t')).flaky, false);
  });

  it('muting needs a reason, keeps who and when, and is undone by unmute', async () => {
    await run('r1', { t: 'fail', u: 'pass' });
    const t = await test('t');
    await assert.rejects(data.testHistory.mute(t.testid as number, 'alice', '  '), MuteReasonError);
    await data.testHistory.mute(t.testid as number, 'alice', ' flaky on arm64 ');
    assert.deepEqual(await data.testHistory.mutedNames(builderid), new Set(['t']));
    const muted = await test('t');
    assert.equal(muted.muted, true);
    assert.equal(muted.muted_by, 'alice');
    assert.equal(muted.muted_at, now);
    assert.equal(muted.muted_reason, 'flaky on arm64');
    await run('r2', { t: 'fail' }, ['t']);
    assert.deepEqual(
      (await runsOf('t')).map((r) => r.muted),
      [false, true],
    );
    await data.testHistory.unmute(t.testid as number);
    assert.deepEqual(await data.testHistory.mutedNames(builderid), new Set());
    assert.equal((await test('t')).muted_by, null);
  });
});

describe('a Test step with quarantined tests', () => {
  const summary = (failedNames: string[], failed = failedNames.length, truncated = false): TestSummary => ({
    passed: 3,
    failed,
    skipped: 0,
    todo: 0,
    total: 3 + failed,
    failedNames,
    failedNamesTruncated: truncated,
  });

  it('passes (with warnings) only when every failure is of a muted test', () => {
    const muted = new Set(['a', 'b']);
    assert.deepEqual(mutedFailures(summary(['a', 'b']), muted), { muted: 2, onlyMuted: true });
    assert.deepEqual(
      mutedFailures(summary(['a', 'c']), muted),
      { muted: 1, onlyMuted: false },
      'an unmuted failure fails',
    );
    assert.deepEqual(
      mutedFailures(summary(['a'], 2), muted),
      { muted: 1, onlyMuted: false },
      'a failure without a name (a hook) fails',
    );
    assert.deepEqual(
      mutedFailures(summary(['a'], 1, true), muted),
      { muted: 1, onlyMuted: false },
      'unnamed failures beyond the list fail',
    );
    assert.deepEqual(mutedFailures(summary([]), muted), { muted: 0, onlyMuted: false });
  });
});
