// A large history written with raw SQL (fast, and independent of the data layer it is
// meant to exercise): one old master, `builders` builders, `finished` finished builds and
// `pending` pending requests. Used by the start-up test and bench/master.
import { DatabaseSync } from 'node:sqlite';

export function seedHistory(
  file: string,
  { pending, finished, builders }: { pending: number; finished: number; builders: number },
): void {
  const db = new DatabaseSync(file);
  db.exec('BEGIN');
  db.prepare("INSERT INTO masters (id, name, active, last_active) VALUES (1, 'old', 0, 0)").run();
  const builder = db.prepare("INSERT INTO builders (id, name, tags) VALUES (?, ?, '[]')");
  for (let b = 0; b < builders; b++) builder.run(b + 1, `b${b}`);
  db.prepare(
    "INSERT INTO sourcestamps (id, ss_hash, repository, codebase, project, created_at) VALUES (1, 'h', 'r', '', '', 0)",
  ).run();
  const buildset = db.prepare('INSERT INTO buildsets (id, submitted_at, complete) VALUES (?, ?, ?)');
  const bss = db.prepare('INSERT INTO buildset_sourcestamps (buildsetid, sourcestampid) VALUES (?, 1)');
  const request = db.prepare(
    'INSERT INTO buildrequests (id, buildsetid, builderid, priority, submitted_at, complete, results, claimed_by_master) VALUES (?, ?, ?, 0, ?, ?, ?, ?)',
  );
  const build = db.prepare(
    "INSERT INTO builds (number, builderid, buildrequestid, masterid, started_at, complete_at, state_string, results) VALUES (?, ?, ?, 1, ?, ?, 'build successful', 0)",
  );
  let id = 0;
  for (let i = 0; i < finished + pending; i++) {
    id++;
    const done = i < finished;
    const builderid = (i % builders) + 1;
    buildset.run(id, 1_700_000_000 + i, done ? 1 : 0);
    bss.run(id);
    request.run(id, id, builderid, 1_700_000_000 + i, done ? 1 : 0, done ? 0 : null, done ? 1 : null);
    if (done) build.run(Math.floor(i / builders) + 1, builderid, id, 1_700_000_000 + i, 1_700_000_100 + i);
  }
  db.exec('COMMIT');
  db.close();
}
