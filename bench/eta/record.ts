/**
 * Records real build histories for the ETA benchmark: runs a recipe's steps (shell
 * commands) as builds, one after another, and writes per step its duration, its output
 * line count and how many lines had appeared at each 5 % of its time. `run.ts --replay`
 * feeds the file to the estimator.
 *
 *   ./dev node bench/eta/record.ts zlib --repo <zlib clone> [--builds 12] --out bench/eta/histories/zlib.json
 *   ./dev node bench/eta/record.ts lathe-tests [--builds 8] --out bench/eta/histories/lathe-tests.json
 *
 * zlib: the last `--builds` commits of a clone of github.com/madler/zlib, oldest first,
 * each checked out clean and built as a CI builder would (`./configure`, `make`,
 * `make test`). lathe-tests: this repository's compiled test files (build first), each
 * run with `node --test` as one step. Every third build runs next to a CPU-bound process
 * (`--load-every 3`), so that load varies as on a shared worker.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RecordedBuild, RecordedHistory, RecordedStep } from './recorded.ts';
import { LINE_SAMPLES } from './recorded.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    repo: { type: 'string' },
    builds: { type: 'string' },
    out: { type: 'string' },
    'load-every': { type: 'string', default: '3' },
  },
});
const recipe = positionals[0];
if (!values.out) throw new Error('--out <file.json> is required');
const loadEvery = Number(values['load-every']);
const root = join(import.meta.dirname, '..', '..');

interface StepSpec {
  readonly name: string;
  readonly command: string;
}
interface Recipe {
  readonly description: string;
  readonly cwd: string;
  /** The steps of build `i` of `count`. */
  readonly steps: (i: number, count: number) => StepSpec[];
  readonly label: (i: number, count: number) => string;
  readonly defaultBuilds: number;
}

function gitLines(cwd: string, args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const p = spawn('git', args, { cwd });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('error', reject);
    p.on('exit', (code) =>
      code === 0
        ? resolve(out.split('\n').filter(Boolean))
        : reject(new Error(`git ${args.join(' ')}: ${code}`)),
    );
  });
}

const TEST_FILES = [
  'packages/pb/dist/test/banana.test.js',
  'packages/pb/dist/test/jelly.test.js',
  'packages/pb/dist/test/broker.test.js',
  'packages/worker/dist/test/fs-commands.test.js',
  'packages/worker/dist/test/transfers.test.js',
  'packages/master/dist/test/config.test.js',
  'packages/master/dist/test/logparsers.test.js',
  'packages/master/dist/test/data.test.js',
];

async function makeRecipe(): Promise<Recipe> {
  if (recipe === 'zlib') {
    const repo = values.repo;
    if (!repo) throw new Error('zlib needs --repo <a clone of github.com/madler/zlib>');
    const count = Number(values.builds ?? 12);
    const revisions = (
      await gitLines(repo, ['rev-list', '--first-parent', `--max-count=${count}`, 'HEAD'])
    ).reverse();
    return {
      description:
        'zlib (github.com/madler/zlib), successive commits, each checked out clean: ./configure, make, make test',
      cwd: repo,
      defaultBuilds: count,
      label: (i) => revisions[i]!,
      steps: (i) => [
        {
          name: 'checkout',
          command: `git checkout -qf ${revisions[i]} && git clean -qfdx && git log -1 --stat`,
        },
        { name: 'configure', command: './configure' },
        { name: 'compile', command: 'make' },
        { name: 'test', command: 'make test' },
      ],
    };
  }
  if (recipe === 'lathe-tests') {
    return {
      description: "Lathe's own test files (compiled), each run by `node --test` as one step",
      cwd: root,
      defaultBuilds: 8,
      label: (i) => `run ${i + 1}`,
      steps: () =>
        TEST_FILES.map((f) => ({
          name: f.replace(/^packages\/(\w+)\/dist\/test\/(.*)\.test\.js$/, '$1/$2'),
          command: `"${process.execPath}" --test --test-reporter=spec ${f}`,
        })),
    };
  }
  throw new Error('recipe: zlib or lathe-tests');
}

/** Runs one step, noting when each output line (stdout or stderr) arrived. */
function runStep(spec: StepSpec, cwd: string): Promise<RecordedStep> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const lineTimes: number[] = [];
    const p = spawn('/bin/sh', ['-c', spec.command], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const count = (chunk: Buffer) => {
      const t = (performance.now() - start) / 1000;
      for (const byte of chunk) if (byte === 10) lineTimes.push(t);
    };
    p.stdout.on('data', count);
    p.stderr.on('data', count);
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`step ${spec.name} (${spec.command}) exited ${code}`));
      const durationS = (performance.now() - start) / 1000;
      const linesAt = Array.from(
        { length: LINE_SAMPLES },
        (_, k) => lineTimes.filter((t) => t <= (k / (LINE_SAMPLES - 1)) * durationS).length,
      );
      resolve({ name: spec.name, durationS: Number(durationS.toFixed(3)), lines: lineTimes.length, linesAt });
    });
  });
}

/** A CPU-bound process for the duration of a build. */
function burner(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}

const r = await makeRecipe();
const count = Number(values.builds ?? r.defaultBuilds);
const builds: RecordedBuild[] = [];
for (let i = 0; i < count; i++) {
  const loaded = loadEvery > 0 && i % loadEvery === loadEvery - 1;
  const busy = loaded ? burner() : undefined;
  const loadAvg1 = Number(loadavg()[0]!.toFixed(1));
  try {
    const steps: RecordedStep[] = [];
    for (const spec of r.steps(i, count)) steps.push(await runStep(spec, r.cwd));
    builds.push({
      label: r.label(i, count),
      load: loaded ? 'one CPU-bound process alongside' : 'as found',
      loadAvg1,
      steps,
    });
    const total = steps.reduce((s, x) => s + x.durationS, 0);
    console.error(`build ${i + 1}/${count} (${r.label(i, count)}): ${total.toFixed(1)} s`);
  } finally {
    busy?.kill('SIGKILL');
  }
}
const history: RecordedHistory = {
  description: r.description,
  command: `./dev node bench/eta/record.ts ${process.argv.slice(2).join(' ')}`,
  recordedAt: new Date().toISOString().slice(0, 10),
  builds,
};
writeFileSync(values.out, `${JSON.stringify(history)}\n`);
