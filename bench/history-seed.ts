// A large build history written with plain SQL in one transaction (the data layer's
// per-build inserts would take far longer and are not what the benchmarks measure):
// `builders` builders and `builds` finished builds in time order across them, as a busy
// master makes them. Shared by bench/api and bench/www.
import { DatabaseSync } from 'node:sqlite';
import { openAndMigrate } from '@lathe/master';

export async function seedHistory(file: string, builders: number, builds: number): Promise<void> {
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
  raw.exec(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${builds - 1})
            INSERT INTO builds (number, builderid, buildrequestid, masterid, started_at, complete_at, state_string, results)
            SELECT i / ${builders} + 1, i % ${builders} + 1, 1, 1, i, i + 1, 'done', i % 3 FROM n`);
  raw.exec('COMMIT');
  raw.exec('ANALYZE');
  raw.close();
}

/**
 * Gives the seeded history changes, as schedulers make them: every round of builds (build
 * number n of every builder) was made for change n, through its own source stamp, buildset
 * and one request per build. What the console and grid read.
 */
export function linkChanges(file: string): void {
  const raw = new DatabaseSync(file);
  raw.exec('BEGIN');
  raw.exec(`INSERT INTO sourcestamps (id, ss_hash, revision, repository, codebase, project, created_at)
            SELECT DISTINCT number + 1, 'rev-' || number, printf('%040x', number), 'r', '', '', number FROM builds`);
  raw.exec(`INSERT INTO changes (id, author, comments, revision, when_timestamp, repository, codebase, project, sourcestampid)
            SELECT number, 'dev' || (number % 7) || ' <dev@example.org>', 'change ' || number,
                   printf('%040x', number), number, 'r', '', '', number + 1
            FROM (SELECT DISTINCT number FROM builds)`);
  raw.exec(`INSERT INTO buildsets (id, submitted_at, complete, complete_at, results)
            SELECT number + 1, number, 1, number, 0 FROM (SELECT DISTINCT number FROM builds)`);
  raw.exec(
    `INSERT INTO buildset_sourcestamps (buildsetid, sourcestampid) SELECT id, id FROM buildsets WHERE id > 1`,
  );
  raw.exec(`INSERT INTO buildrequests (id, buildsetid, builderid, priority, submitted_at, complete, results, complete_at)
            SELECT id + 1, number + 1, builderid, 0, started_at, 1, results, complete_at FROM builds`);
  raw.exec('UPDATE builds SET buildrequestid = id + 1');
  raw.exec('COMMIT');
  raw.exec('ANALYZE');
  raw.close();
}
