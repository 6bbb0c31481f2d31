/**
 * ETA accuracy: simulates builders, builds their history, replays running builds and
 * measures how far the estimated finish time is from the real one, as a share of the
 * build's duration.
 *
 *   ./dev node bench/eta/run.ts [--builders 300] [--builds 10] [--history 3] [--seed 1] [--pace even|uneven]
 *   ./dev node bench/eta/run.ts --replay bench/eta/histories/zlib.json [--history 3]
 *
 * --replay takes real builds recorded by record.ts instead of the simulation: each build
 * from the `--history`-th on is measured with the builds just before it as its history,
 * as a builder's successive builds would be.
 *
 * The model (per builder): 3–8 steps with typical durations spread lognormally around a
 * minute (2 s … 30 min) and their own output rates (some nearly silent). Per build: a
 * worker speed factor (lognormal, σ 0.1) for all steps; per step, work (σ 0.2) that scales
 * both time and output, timing noise (σ 0.08), and outliers: 5 % of step runs stall 2–5×
 * (no extra output), 3 % do 2–4× the work (more output too). Output lines appear at an even
 * pace through the step, or with `--pace uneven` front- or back-loaded: after a share x of
 * the step's time, x^p of its lines, p lognormal (σ 0.6) per step of the builder and
 * jittered (σ 0.25) per run — the case where output progress misleads. Each measured build has exactly `--history` earlier builds as its
 * history; it is sampled at 20 evenly spaced moments (0 %, 5 % … 95 % of its duration).
 */
import { parseArgs } from 'node:util';
import { type BuildHistory, EtaEstimator, type EtaOptions, PROFILE_POINTS } from '@lathe/master';
import { durationOf, linesBy, readRecordedHistory, toBuildHistory } from './recorded.ts';

const { values } = parseArgs({
  options: {
    builders: { type: 'string', default: '300' },
    builds: { type: 'string', default: '10' },
    history: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    pace: { type: 'string', default: 'even' },
    replay: { type: 'string' },
  },
});
const BUILDERS = Number(values.builders);
const MEASURED = Number(values.builds);
const HISTORY = Number(values.history);
const UNEVEN = values.pace === 'uneven';
if (values.pace !== 'even' && !UNEVEN) throw new Error('--pace is even or uneven');

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(Number(values.seed));
function normal(): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
const lognormal = (sigma: number) => Math.exp(sigma * normal());
const between = (lo: number, hi: number) => lo + (hi - lo) * random();

interface StepModel {
  name: string;
  baseS: number;
  linesPerS: number;
  /** Output profile exponent: lines so far = lines × (elapsed share)^pace. */
  pace: number;
}
interface SimStep {
  name: string;
  startS: number;
  durationS: number;
  lines: number;
  pace: number;
}
interface SimBuild {
  durationS: number;
  steps: SimStep[];
}

/** What measure() replays: when each step ran and how much output it had written when. */
interface ReplayStep {
  readonly name: string;
  readonly startS: number;
  readonly durationS: number;
  /** Lines written after `share` (0..1) of the step's time. */
  linesBy(share: number): number;
}
interface ReplayBuild {
  readonly durationS: number;
  readonly steps: readonly ReplayStep[];
}

const simulated = (b: SimBuild): ReplayBuild => ({
  durationS: b.durationS,
  steps: b.steps.map((s) => ({ ...s, linesBy: (share) => Math.floor(s.lines * share ** s.pace) })),
});

function makeBuilder(): StepModel[] {
  const n = 3 + Math.floor(random() * 6);
  return Array.from({ length: n }, (_, i) => ({
    name: `step${i}`,
    baseS: Math.min(1800, Math.max(2, 60 * Math.exp(1.2 * normal()))),
    linesPerS: random() < 0.2 ? 0.1 : 20 * Math.exp(normal()),
    pace: UNEVEN ? lognormal(0.6) : 1,
  }));
}

function runBuild(model: StepModel[]): SimBuild {
  const speed = lognormal(0.1);
  let t = 0;
  const steps = model.map((m) => {
    let work = lognormal(0.2);
    let stall = 1;
    const r = random();
    if (r < 0.05) stall = between(2, 5);
    else if (r < 0.08) work *= between(2, 4);
    const durationS = m.baseS * work * speed * stall * lognormal(0.08);
    const lines = Math.round(m.baseS * m.linesPerS * work * lognormal(0.1));
    const pace = UNEVEN ? m.pace * lognormal(0.25) : 1;
    const s = { name: m.name, startS: t, durationS, lines, pace };
    t += durationS;
    return s;
  });
  return { durationS: t, steps };
}

// A finished step's recorded output profile: its lines' share at 25, 50 and 75 % of its time.
const toHistory = (b: SimBuild): BuildHistory => ({
  durationS: b.durationS,
  steps: b.steps.map((s) => ({
    name: s.name,
    durationS: s.durationS,
    lines: s.lines,
    profile: PROFILE_POINTS.map((x) => x ** s.pace),
  })),
});

/** Relative errors of the ETA for one build, at 20 moments through it. */
function measure(history: BuildHistory[], build: ReplayBuild, options: EtaOptions): number[] {
  const errors: number[] = [];
  const T0 = 1_700_000_000;
  for (let k = 0; k < 20; k++) {
    const now = (k / 20) * build.durationS;
    const eta = new EtaEstimator(history, options);
    eta.buildStarted(T0);
    for (const s of build.steps) {
      if (s.startS > now) break;
      eta.stepStarted(s.name, T0 + s.startS);
      if (s.startS + s.durationS <= now) eta.stepFinished(s.name, T0 + s.startS + s.durationS);
      else eta.stepOutput(s.name, s.linesBy((now - s.startS) / s.durationS));
    }
    const e = eta.estimate(T0 + now);
    errors.push(Math.abs(e.buildEta! - (T0 + build.durationS)) / build.durationS);
  }
  return errors;
}

const quantile = (v: number[], q: number) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

const variants: [string, EtaOptions][] = [
  ['median, speed and lines (default)', {}],
  ['ewma (α 0.3), speed and lines', { center: 'ewma' }],
  ['median and speed, no lines', { useLines: false }],
  ['median only, no live signals', { useLines: false, speedTrust: 0 }],
];

const builds: { history: BuildHistory[]; build: ReplayBuild }[] = [];
if (values.replay) {
  const recorded = readRecordedHistory(values.replay);
  for (let i = HISTORY; i < recorded.builds.length; i++) {
    const b = recorded.builds[i]!;
    let startS = 0;
    const steps = b.steps.map((s) => {
      const step = {
        name: s.name,
        startS,
        durationS: s.durationS,
        linesBy: (share: number) => linesBy(s, share),
      };
      startS += s.durationS;
      return step;
    });
    builds.push({
      history: recorded.builds.slice(i - HISTORY, i).map(toBuildHistory),
      build: { durationS: durationOf(b), steps },
    });
  }
  const durations = recorded.builds.map(durationOf);
  console.log(
    `ETA accuracy on recorded builds: ${values.replay} (${recorded.description}; recorded ${recorded.recordedAt}), ` +
      `${recorded.builds.length} builds of ${Math.min(...durations).toFixed(1)}–${Math.max(...durations).toFixed(1)} s, ` +
      `${builds.length} measured with ${HISTORY} builds of history`,
  );
} else {
  for (let b = 0; b < BUILDERS; b++) {
    const model = makeBuilder();
    const all = Array.from({ length: HISTORY + MEASURED }, () => runBuild(model));
    for (let i = HISTORY; i < all.length; i++) {
      builds.push({ history: all.slice(i - HISTORY, i).map(toHistory), build: simulated(all[i]!) });
    }
  }
  console.log(
    `ETA accuracy: ${BUILDERS} builders × ${MEASURED} builds, ${HISTORY} builds of history, seed ${values.seed}, ${values.pace} output pace`,
  );
}
console.log('| estimator | median abs. error | p90 | median at build start |');
console.log('| --- | ---: | ---: | ---: |');
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
for (const [label, options] of variants) {
  const all: number[] = [];
  const atStart: number[] = [];
  for (const { history, build } of builds) {
    const e = measure(history, build, options);
    all.push(...e);
    atStart.push(e[0]!);
  }
  console.log(
    `| ${label} | ${pct(quantile(all, 0.5))} | ${pct(quantile(all, 0.9))} | ${pct(quantile(atStart, 0.5))} |`,
  );
}
