// The git poller's cost between changes: an upstream repository with BRANCHES branches,
// a poller watching all of them through its mirror; after the first poll (which clones),
// POLLS polls that find nothing new. CPU is the process's own plus its git children's
// (utime, stime, cutime, cstime from /proc/self/stat), so it counts what the poller
// really costs the machine. The share of a core follows for a given poll interval.
//
//   ./dev node bench/changes/poller-cpu.ts [--branches N] [--polls N]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ChangeInput, GitPoller, gitPollerConfig, PBUserRegistry } from '@lathe/master';

const { values } = parseArgs({
  options: { branches: { type: 'string', default: '1000' }, polls: { type: 'string', default: '30' } },
});
const BRANCHES = Number(values.branches);
const POLLS = Number(values.polls);
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** Seconds of CPU used by this process and the children it has waited for. */
function cpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime, cstime are fields 14-17 of the line, 12-15 after the command.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return ticks / TICKS_PER_SECOND;
}

const dir = mkdtempSync(join(tmpdir(), 'lathe-bench-poller-'));
const repo = join(dir, 'upstream');
mkdirSync(repo);
const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
git('init', '-q', '-b', 'main');
writeFileSync(join(repo, 'README'), 'bench\n');
git('add', '.');
git('-c', 'user.name=Bench', '-c', 'user.email=bench@example.invalid', 'commit', '-q', '-m', 'root');
const head = git('rev-parse', 'HEAD').trim();
const creates = Array.from(
  { length: BRANCHES - 1 },
  (_, i) => `create refs/heads/branch-${i} ${head}\n`,
).join('');
execFileSync('git', ['-C', repo, 'update-ref', '--stdin'], { input: creates });

const changes: ChangeInput[] = [];
const remembered = new Map<string, unknown>();
const poller = new GitPoller(gitPollerConfig({ repourl: `file://${repo}`, branches: true }), {
  addChange: async (c) => changes.push(c),
  pbUsers: new PBUserRegistry(),
  log: { info: () => {}, warn: (m) => console.error(m) },
  basedir: join(dir, 'master'),
  // Remembered heads, as the master keeps them in its database; in memory here.
  state: {
    get: async (source, key) => remembered.get(`${source}\0${key}`),
    set: async (source, key, value) => void remembered.set(`${source}\0${key}`, value),
  },
});

let cpu = cpuSeconds();
let wall = performance.now();
await poller.poll();
const first = { cpuMs: (cpuSeconds() - cpu) * 1000, wallMs: performance.now() - wall };

cpu = cpuSeconds();
wall = performance.now();
for (let i = 0; i < POLLS; i++) await poller.poll();
const perPollCpuMs = ((cpuSeconds() - cpu) * 1000) / POLLS;
const perPollWallMs = (performance.now() - wall) / POLLS;
rmSync(dir, { recursive: true, force: true });

const share = (intervalSeconds: number) => `${((perPollCpuMs / 1000 / intervalSeconds) * 100).toFixed(2)} %`;
console.log(
  JSON.stringify({
    branches: BRANCHES,
    idlePolls: POLLS,
    changesReported: changes.length,
    firstPoll: { cpuMs: Math.round(first.cpuMs), wallMs: Math.round(first.wallMs) },
    idlePoll: { cpuMs: Number(perPollCpuMs.toFixed(1)), wallMs: Number(perPollWallMs.toFixed(1)) },
    coreShare: {
      'every 600 s (default)': share(600),
      'every 60 s': share(60),
      'every 10 s': share(10),
      'every 1 s': share(1),
    },
  }),
);
process.exit(changes.length === 0 ? 0 : 1);
