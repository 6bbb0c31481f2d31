// Data API reads on a large history: the latest build of every builder (`/lastbuilds`), a
// builder's latest page and the newest builds, on SQLite with BUILDERS builders and BUILDS
// builds (default 1,000 and 1,000,000), against the same reads on a small history.
//
//   ./dev node bench/api/run.ts [--builders N] [--builds N] [--repeat N]
//
// The history is written by ../history-seed.ts; reads go through DataApi.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DataApi, DataLayer, EventBus, openAndMigrate } from '@lathe/master';
import { seedHistory } from '../history-seed.ts';

const { values } = parseArgs({
  options: {
    builders: { type: 'string', default: '1000' },
    builds: { type: 'string', default: '1000000' },
    repeat: { type: 'string', default: '20' },
  },
});
const repeat = Number(values.repeat);

async function measure(label: string, builders: number, builds: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-bench-api-'));
  const file = join(dir, 'bench.sqlite');
  const seeded = Date.now();
  await seedHistory(file, builders, builds);
  console.error(`${label}: seeded ${builders} builders, ${builds} builds in ${Date.now() - seeded} ms`);
  const db = await openAndMigrate({ url: `sqlite:${file}` });
  const api = new DataApi(new DataLayer(db, new EventBus()));
  const reads: Record<string, [string, Record<string, string>]> = {
    '/lastbuilds (every builder)': ['/lastbuilds', {}],
    '/builders/500/builds?limit=50': [`/builders/${Math.min(500, builders)}/builds`, { limit: '50' }],
    '/builds?limit=50': ['/builds', { limit: '50' }],
  };
  const out: Record<string, number> = {};
  for (const [name, [path, query]] of Object.entries(reads)) {
    const times: number[] = [];
    let count = 0;
    for (let i = 0; i < repeat; i++) {
      const t0 = process.hrtime.bigint();
      const body = await api.get(path, query);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      count = (Object.values(body).find(Array.isArray) as unknown[]).length;
    }
    times.sort((a, b) => a - b);
    out[name] = times[Math.floor(times.length / 2)]!;
    console.error(`${label}: ${name}: median ${out[name]!.toFixed(2)} ms (${count} resources)`);
  }
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return out;
}

const builders = Number(values.builders);
const small = await measure('small', builders, builders * 2);
const large = await measure('large', builders, Number(values.builds));
console.log(
  `| read | ${builders} builders, ${builders * 2} builds | ${builders} builders, ${values.builds} builds |`,
);
console.log('| --- | ---: | ---: |');
for (const name of Object.keys(small))
  console.log(`| \`${name}\` | ${small[name]!.toFixed(2)} ms | ${large[name]!.toFixed(2)} ms |`);
