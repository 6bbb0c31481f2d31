// `npm run bench [-- eta|pb|master|worker|api|scale …]`: runs the benchmarks (all by default) with the
// commands bench/RESULTS.md records, printing each command first. Figures go to stdout;
// copying them into RESULTS.md, with the time and load, is left to the person running them.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const histories = readdirSync(join(root, 'bench', 'eta', 'histories'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => `bench/eta/histories/${f}`);

const BENCHMARKS = {
  eta: [
    ['bench/eta/run.ts'],
    ['bench/eta/run.ts', '--pace', 'uneven'],
    ...histories.map((h) => ['bench/eta/run.ts', '--replay', h]),
  ],
  pb: [['bench/pb/run.ts', '--duration', '2', '--repeat', '3']],
  master: [['bench/master/run.ts']],
  worker: [['bench/worker/run.ts', '--worker', 'both']],
  www: [['bench/www/run.ts'], ['bench/www/live.ts']],
  api: [['bench/api/run.ts'], ['bench/api/realtime.ts']],
  changes: [['bench/changes/webhook-burst.ts'], ['bench/changes/poller-cpu.ts']],
  reporters: [['bench/reporters/run.ts', '--outage-minutes', '10']],
  scale: [['bench/scale/run.ts']],
};

const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !(a in BENCHMARKS));
if (unknown.length > 0) {
  console.error(
    `npm run bench: unknown benchmark ${unknown.join(', ')} (${Object.keys(BENCHMARKS).join(', ')})`,
  );
  process.exit(2);
}
let status = 0;
for (const name of asked.length > 0 ? asked : Object.keys(BENCHMARKS)) {
  for (const args of BENCHMARKS[name]) {
    console.log(`\n$ ./dev node ${args.join(' ')}`);
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) status = 1;
  }
}
process.exit(status);
