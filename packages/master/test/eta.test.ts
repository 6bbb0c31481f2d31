import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type BuildHistory,
  EtaEstimator,
  loadEtaHistory,
  medianProfile,
  OutputTimeline,
  profileSteps,
  timeShareOf,
} from '../src/eta/index.js';
import { median } from '../src/eta/stats.js';
import { BuildMetricsCollector } from '../src/metrics/index.js';
import { FAILURE, type Result, SKIPPED, SUCCESS } from '../src/results.js';
import { openData, seedRequests, tempDir } from './helpers.js';

const T0 = 1_700_000_000;

function build(a: number, b: number, c: number, lines = [100, 200, 300]): BuildHistory {
  return {
    durationS: a + b + c,
    steps: [
      { name: 'checkout', durationS: a, lines: lines[0]! },
      { name: 'compile', durationS: b, lines: lines[1]! },
      { name: 'test', durationS: c, lines: lines[2]! },
    ],
  };
}

// One outlier per step among three builds: the median ignores it.
const HISTORY = [build(10, 20, 90), build(10, 60, 30), build(40, 20, 30)];

describe('ETA', () => {
  it('learns typical step durations with the median, ignoring a slow outlier', () => {
    const { profiles, order } = profileSteps(HISTORY);
    assert.deepEqual(order, ['checkout', 'compile', 'test']);
    assert.deepEqual(
      [...profiles.values()].map((p) => [p.name, p.durationS, p.lines, p.samples]),
      [
        ['checkout', 10, 100, 3],
        ['compile', 20, 200, 3],
        ['test', 30, 300, 3],
      ],
    );
    const ewma = profileSteps(HISTORY, { center: 'ewma', ewmaAlpha: 0.5 }).profiles.get('compile')!;
    assert.equal(ewma.durationS, 0.5 * 20 + 0.5 * (0.5 * 60 + 0.5 * 20));
  });

  it('estimates at the start, as steps finish, and from the running step’s output', () => {
    const eta = new EtaEstimator(HISTORY, { speedTrust: 0 });
    eta.buildStarted(T0);
    assert.equal(eta.estimate(T0).buildEta, T0 + 60);
    assert.equal(eta.estimate(T0).stepEta, undefined);
    eta.stepStarted('checkout', T0);
    assert.deepEqual(eta.estimate(T0 + 4), {
      buildEta: T0 + 60,
      stepEta: T0 + 10,
      buildRemainingS: 56,
      stepRemainingS: 6,
      progress: 4 / 60,
    });
    eta.stepFinished('checkout', T0 + 10);
    eta.stepStarted('compile', T0 + 10);
    // Half the usual output after a quarter of the usual time: the step runs fast.
    eta.stepOutput('compile', 100);
    const e = eta.estimate(T0 + 15);
    assert.ok(e.stepRemainingS! < 10 && e.stepRemainingS! > 5, `step remaining ${e.stepRemainingS}`);
    assert.equal(e.buildRemainingS, e.stepRemainingS! + 30);
    // Without the line signal only time counts: 15 s of the usual 20 remain.
    const timeOnly = new EtaEstimator(HISTORY, { useLines: false, speedTrust: 0 });
    timeOnly.stepStarted('checkout', T0);
    timeOnly.stepFinished('checkout', T0 + 10);
    timeOnly.stepStarted('compile', T0 + 10);
    timeOnly.stepOutput('compile', 100);
    assert.equal(timeOnly.estimate(T0 + 15).stepRemainingS, 15);
  });

  it('scales what remains when finished steps ran slow, and keeps moving past the usual time', () => {
    const eta = new EtaEstimator(HISTORY, { speedTrust: 0.5 });
    eta.stepStarted('checkout', T0);
    eta.stepFinished('checkout', T0 + 20);
    // Twice as slow so far; half of that is trusted: 1.5 × (20 + 30).
    assert.equal(eta.estimate(T0 + 20).buildRemainingS, 75);
    eta.stepStarted('compile', T0 + 20);
    const late1 = eta.estimate(T0 + 20 + 45).buildEta!;
    const late2 = eta.estimate(T0 + 20 + 90).buildEta!;
    assert.ok(late2 > late1, 'an overrunning step pushes the ETA forward');
    assert.ok(eta.estimate(T0 + 20 + 90).stepRemainingS! >= 1);
    eta.stepSkipped('test');
    eta.stepFinished('compile', T0 + 120);
    assert.equal(eta.estimate(T0 + 120).buildRemainingS, 0);
    assert.equal(eta.estimate(T0 + 120).progress, 1);
  });

  it('follows the given plan, counts unknown steps as free, and says nothing without history', () => {
    const eta = new EtaEstimator(HISTORY, { steps: ['checkout', 'lint', 'test'], speedTrust: 0 });
    assert.equal(eta.estimate(T0).buildRemainingS, 40);
    const none = new EtaEstimator([]);
    none.stepStarted('x', T0);
    assert.equal(none.hasHistory, false);
    assert.deepEqual(none.estimate(T0 + 1), {
      buildEta: undefined,
      stepEta: undefined,
      buildRemainingS: undefined,
      stepRemainingS: undefined,
      progress: undefined,
    });
  });
});

describe('output profiles', () => {
  it("records the share of a step's lines at 25, 50 and 75 % of its time", () => {
    const t = new OutputTimeline(100);
    t.add(101, 10);
    t.add(102, 10);
    t.add(104, 100);
    // 103 lies between the samples at 102 (10 lines) and 104 (100): 55 lines.
    assert.deepEqual(t.profile(104, 100), [0.1, 0.1, 0.55]);
    assert.equal(t.profile(100, 100), undefined, 'no time, nothing to learn');
    assert.equal(new OutputTimeline(0).profile(10, 0), undefined, 'no output, nothing to learn');
  });

  it('maps a share of lines onto a share of time through the profile', () => {
    const p = [0.1, 0.1, 0.55];
    assert.equal(timeShareOf(p, 0), 0);
    assert.equal(timeShareOf(p, 0.1), 0.25, 'a silent stretch: its start is the earliest time');
    assert.equal(timeShareOf(p, 0.55), 0.75);
    assert.ok(Math.abs(timeShareOf(p, 0.325) - 0.625) < 1e-12);
    assert.equal(timeShareOf(p, 1), 1);
    assert.deepEqual(
      medianProfile(
        [
          [0.2, 0.1, 0.9],
          [0.3, 0.5, 0.6],
          [0.1, 0.4, 0.7],
        ],
        median,
      ),
      [0.2, 0.4, 0.7],
    );
  });

  it("reads a back-loaded step's few lines as half done when its history says so", () => {
    const step = { name: 'test', durationS: 100, lines: 100 };
    const remaining = (profile?: number[]) => {
      const eta = new EtaEstimator(
        [1, 2, 3].map(() => ({ durationS: 100, steps: [{ ...step, ...(profile ? { profile } : {}) }] })),
      );
      eta.buildStarted(T0);
      eta.stepStarted('test', T0);
      eta.stepOutput('test', 10);
      return eta.estimate(T0 + 50).buildRemainingS!;
    };
    // 10 of 100 lines after 50 s: with output that comes late, that is half way.
    assert.ok(Math.abs(remaining([0.05, 0.1, 0.3]) - 50) < 1, String(remaining([0.05, 0.1, 0.3])));
    // Read as even output, 10 % done: far longer.
    assert.ok(remaining() > 150, String(remaining()));
  });
});

describe('ETA history from the database', () => {
  const dir = tempDir('lathe-eta-');
  after(() => dir.cleanup());

  it('loads the last successful builds with step durations and line counts, oldest first', async () => {
    let clock = T0;
    const t = await openData(join(dir.path, 'eta.sqlite'), () => clock);
    try {
      const { masterid } = await t.data.masters.register('eta-master');
      const { builderid, brids } = await seedRequests(t.data, 'eta', 5);
      await t.data.buildrequests.claim(brids, masterid);
      const results: Result[] = [SUCCESS, SUCCESS, FAILURE, SUCCESS, SUCCESS];
      for (const [i, brid] of brids.entries()) {
        clock = T0 + i * 1000;
        const { buildid } = await t.data.builds.add({
          builderid,
          buildrequestid: brid,
          workerid: null,
          masterid,
        });
        const metrics = new BuildMetricsCollector();
        for (const [name, secs] of [
          ['checkout', 5],
          ['compile', 20 + i],
          ['lint', 0],
        ] as const) {
          const { stepid } = await t.data.steps.add(buildid, name);
          await t.data.steps.start(stepid);
          clock += secs;
          await t.data.steps.finish(stepid, name === 'lint' ? SKIPPED : SUCCESS);
          metrics.stepFinished(name, secs, secs * 10, name === 'compile' ? [0.1, 0.2, 0.5] : undefined);
        }
        await metrics.flush(t.data.metrics, buildid);
        await t.data.builds.finish(buildid, results[i]!);
      }
      const history = await loadEtaHistory(t.data, builderid, 3);
      assert.deepEqual(history, [
        {
          durationS: 26,
          steps: [
            { name: 'checkout', durationS: 5, lines: 50 },
            { name: 'compile', durationS: 21, lines: 210, profile: [0.1, 0.2, 0.5] },
          ],
        },
        {
          durationS: 28,
          steps: [
            { name: 'checkout', durationS: 5, lines: 50 },
            { name: 'compile', durationS: 23, lines: 230, profile: [0.1, 0.2, 0.5] },
          ],
        },
        {
          durationS: 29,
          steps: [
            { name: 'checkout', durationS: 5, lines: 50 },
            { name: 'compile', durationS: 24, lines: 240, profile: [0.1, 0.2, 0.5] },
          ],
        },
      ]);
      const eta = new EtaEstimator(history);
      assert.equal(eta.estimate(T0).buildRemainingS, 5 + 23);
    } finally {
      await t.close();
    }
  });
});

describe('ETA accuracy harness', () => {
  it('runs bench/eta on the built package and keeps the default estimator under 10 % median error', () => {
    const script = fileURLToPath(new URL('../../../../bench/eta/run.ts', import.meta.url));
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, [script, '--builders', '100', '--seed', '7'], {
      encoding: 'utf8',
      env,
    });
    assert.equal(r.status, 0, r.stderr);
    const rows = new Map(
      r.stdout
        .split('\n')
        .filter((l) => l.startsWith('| ') && l.includes('%'))
        .map((l) => {
          const cells = l.split('|').map((c) => c.trim());
          return [cells[1]!, Number.parseFloat(cells[2]!)] as const;
        }),
    );
    const best = rows.get('median, speed and lines (default)')!;
    const blind = rows.get('median only, no live signals')!;
    assert.ok(best < 10, `default estimator: ${best} %`);
    assert.ok(best < blind, `live signals help: ${best} % vs ${blind} %`);
  });
});
