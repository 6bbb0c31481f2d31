// Data API reads on a large history: the latest build of every builder (`/lastbuilds`), a
// builder's latest page and the newest builds, on SQLite with BUILDERS builders and BUILDS
// builds (default 1,000 and 1,000,000), against the same reads on a small history.
//
//   ./dev node bench/api/run.ts [--builders N] [--builds N] [--repeat N]
//
// The history is written with plain SQL in one transaction (the data layer's per-build
// inserts would take far longer and are not what is measured); reads go through DataApi.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { DataApi, DataLayer, EventBus, openAndMigrate } from '@lathe/master';

const { values } = parseArgs({
  options: {
    builders: { type: 'string', default: '1000' },
    builds: { type: 'string', default: '1000000' },
    repeat: { type: 'string', default: '20' },
  },
});
const repeat = Number(values.repeat);

async function seed(file: string, builders: number, builds: number): Promise<void> {
  const db = await openAndMigrate({ url: `sqlite:${file}` });
  await db.close();
  const raw = new DatabaseSync(file);
  raw.exec('BEGIN');
  raw.exec(`INSERT INTO masters (name, active, last_active) VALUES ('bench', 1, 0)`);
  raw.exec(
    `INSERT INTO sourcestamps (ss_hash, repository, codebase, project, created_at) VALUES ('h', 'r', '', '', 0)`,
  );
  raw.exec(`INSERT INTO buildsets (submitted_at, complete) VALUES (0, 1)`);
  raw.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${builders})
            INSERT INTO builders (name, tags) SELECT 'builder-' || i, '[]' FROM n`);
  raw.exec(
    `INSERT INTO buildrequests (buildsetid, builderid, priority, submitted_at, complete) VALUES (1, 1, 0, 0, 1)`,
  );
  // Builds in time order across builders, as a busy master makes them.
  raw.exec(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${builds - 1})
            INSERT INTO builds (number, builderid, buildrequestid, masterid, started_at, complete_at, state_string, results)
            SELECT i / ${builders} + 1, i % ${builders} + 1, 1, 1, i, i + 1, 'done', i % 3 FROM n`);
  raw.exec('COMMIT');
  raw.exec('ANALYZE');
  raw.close();
}

async function measure(label: string, builders: number, builds: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-bench-api-'));
  const file = join(dir, 'bench.sqlite');
  const seeded = Date.now();
  await seed(file, builders, builds);
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
