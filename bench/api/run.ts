// Data API reads on a large history: every kind of collection page (a builder's builds,
// the newest builds, a worker's builds, requests, buildsets, a metric over a builder's
// history, a build's steps and properties, filtered and keyset pages) and the latest build
// of every builder, on SQLite with BUILDERS builders and BUILDS builds (default 1,000 and
// 1,000,000; one request, buildset and `build.duration_s` metric per build, 10 workers),
// against the same reads on a small history. Each read is timed through DataApi.get (the
// server's work for a REST answer, without HTTP and JSON): p50 and p99 of REPEAT reads, or
// of as many as fit in 10 s.
//
//   ./dev node bench/api/run.ts [--builders N] [--builds N] [--repeat N]
//
// The history is written by ../history-seed.ts, with what these reads need added by
// addApiHistory; reads go through DataApi.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { DataApi, DataLayer, EventBus, openAndMigrate } from '@lathe/master';
import { seedHistory } from '../history-seed.ts';

const { values } = parseArgs({
  options: {
    builders: { type: 'string', default: '1000' },
    builds: { type: 'string', default: '1000000' },
    repeat: { type: 'string', default: '200' },
  },
});
const repeat = Number(values.repeat);
const BUDGET_MS = 10_000;

/**
 * What the shared history lacks and these reads need: a buildset and a request per build
 * (not linked to the builds), 10 workers the builds ran on, a tag on every builder, a
 * `build.duration_s` metric per build, and steps and properties on the newest build.
 */
function addApiHistory(file: string, builds: number): void {
  const raw = new DatabaseSync(file);
  const upTo = (n: number) =>
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${n - 1})`;
  raw.exec('BEGIN');
  raw.exec(`UPDATE builders SET tags = '["bench"]'`);
  raw.exec(`${upTo(10)} INSERT INTO workers (name, info) SELECT 'worker-' || (i + 1), '{}' FROM n`);
  raw.exec(`UPDATE builds SET workerid = (id - 1) % 10 + 1`);
  raw.exec(`${upTo(builds)} INSERT INTO buildsets (submitted_at, complete, complete_at, results)
            SELECT i, 1, i + 1, i % 3 FROM n`);
  raw.exec(`INSERT INTO buildset_sourcestamps (buildsetid, sourcestampid) SELECT id, 1 FROM buildsets`);
  raw.exec(`INSERT INTO buildrequests (buildsetid, builderid, priority, submitted_at, complete, results, complete_at)
            SELECT b.id, (b.id - 1) % (SELECT count(*) FROM builders) + 1, 0, b.submitted_at, 1, b.results, b.complete_at
            FROM buildsets b WHERE b.id > 1`);
  raw.exec(
    `INSERT INTO build_metrics (buildid, name, value, recorded_at) SELECT id, 'build.duration_s', 1.5, 0 FROM builds`,
  );
  raw.exec(`${upTo(12)} INSERT INTO steps (number, name, buildid, started_at, complete_at, state_string, results, urls_json)
            SELECT i, 'step-' || i, ${builds}, 0, 1, 'done', 0, '[]' FROM n`);
  raw.exec(`${upTo(30)} INSERT INTO build_properties (buildid, name, value, source)
            SELECT ${builds}, 'prop-' || i, '"value"', 'bench' FROM n`);
  raw.exec('COMMIT');
  raw.exec('ANALYZE');
  raw.close();
}

type Figures = Record<string, { p50: number; p99: number; n: number; count: number }>;

async function measure(label: string, builders: number, builds: number): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-bench-api-'));
  const file = join(dir, 'bench.sqlite');
  const seeded = Date.now();
  await seedHistory(file, builders, builds);
  addApiHistory(file, builds);
  console.error(`${label}: seeded ${builders} builders, ${builds} builds in ${Date.now() - seeded} ms`);
  const db = await openAndMigrate({ url: `sqlite:${file}` });
  const api = new DataApi(new DataLayer(db, new EventBus()));
  const mid = Math.min(500, builders);
  // A cursor deep in the history: the page after the middle build.
  const deep = (await api.get('/builds', { limit: '1', offset: String(Math.floor(builds / 2)) })).meta.next!;
  const reads: Record<string, [string, Record<string, string>]> = {
    '/lastbuilds (every builder)': ['/lastbuilds', {}],
    '/lastfinishedbuilds (every builder)': ['/lastfinishedbuilds', {}],
    '/builders (all)': ['/builders', {}],
    '/builders?tags__contains=bench&limit=50': ['/builders', { tags__contains: 'bench', limit: '50' }],
    '/builders/500/builds?limit=50': [`/builders/${mid}/builds`, { limit: '50' }],
    '/builders/500/builds?results=2&limit=50': [`/builders/${mid}/builds`, { results: '2', limit: '50' }],
    '/builds?limit=50': ['/builds', { limit: '50' }],
    '/builds?limit=50&after=(middle)': ['/builds', { limit: '50', after: deep }],
    '/builds?complete=true&limit=50': ['/builds', { complete: 'true', limit: '50' }],
    // Served by the (masterid, complete_at) index: unfinished builds are found at once.
    '/builds?complete=false&limit=50 (none running)': ['/builds', { complete: 'false', limit: '50' }],
    // A filter no index serves and no build matches: the page examines the scan budget of
    // rows along the id index and answers empty with a cursor (meta.scan_stopped).
    '/builds?state_string__contains=nomatch&limit=50': [
      '/builds',
      { state_string__contains: 'nomatch', limit: '50' },
    ],
    '/workers/3/builds?limit=50': ['/workers/3/builds', { limit: '50' }],
    '/buildrequests?limit=50': ['/buildrequests', { limit: '50' }],
    '/builders/500/buildrequests?limit=50': [`/builders/${mid}/buildrequests`, { limit: '50' }],
    '/buildsets?limit=50': ['/buildsets', { limit: '50' }],
    '/sourcestamps?limit=50': ['/sourcestamps', { limit: '50' }],
    '/builders/500/metrics/build.duration_s?limit=50': [
      `/builders/${mid}/metrics/build.duration_s`,
      { limit: '50' },
    ],
    '/builds/(newest)/steps': [`/builds/${builds}/steps`, {}],
    '/builds/(newest)/properties': [`/builds/${builds}/properties`, {}],
  };
  const out: Figures = {};
  for (const [name, [path, query]] of Object.entries(reads)) {
    const times: number[] = [];
    let count = 0;
    const start = Date.now();
    for (let i = 0; i < repeat && (i < 10 || Date.now() - start < BUDGET_MS); i++) {
      const t0 = process.hrtime.bigint();
      const body = await api.get(path, query);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      count = (Object.values(body).find(Array.isArray) as unknown[]).length;
    }
    times.sort((a, b) => a - b);
    const at = (p: number) => times[Math.min(times.length - 1, Math.floor((times.length * p) / 100))]!;
    out[name] = { p50: at(50), p99: at(99), n: times.length, count };
    console.error(
      `${label}: ${name}: p50 ${at(50).toFixed(2)} ms, p99 ${at(99).toFixed(2)} ms (${times.length} reads, ${count} resources)`,
    );
  }
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return out;
}

const builders = Number(values.builders);
const small = await measure('small', builders, builders * 2);
const large = await measure('large', builders, Number(values.builds));
console.log(
  `| read | ${builders} builders, ${builders * 2} builds: p50 | p99 | ${builders} builders, ${values.builds} builds: p50 | p99 | resources |`,
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const name of Object.keys(small)) {
  const a = small[name]!;
  const b = large[name]!;
  console.log(
    `| \`${name}\` | ${a.p50.toFixed(2)} ms | ${a.p99.toFixed(2)} ms | ${b.p50.toFixed(2)} ms | ${b.p99.toFixed(2)} ms | ${b.count} |`,
  );
}
