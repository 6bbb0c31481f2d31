// `lathe copy-db`: a seeded SQLite installation copied to PostgreSQL and back loses
// nothing (every table, every id, log chunks byte for byte); the copied PostgreSQL
// database takes new rows after the copied ids; a non-empty target is refused. Also the
// PostgreSQL connection errors. Needs the test server (LATHE_TEST_POSTGRES_URL, which
// scripts/run-tests.mjs starts; refused in CI when missing).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { EventBus } from '../src/bus/bus.js';
import { main } from '../src/cli/main.js';
import { DataLayer } from '../src/data/index.js';
import { type Db, openAndMigrate, openDatabase } from '../src/db/connection.js';
import { COPY_ORDER, CopyRefusedError, copyDatabase } from '../src/db/copy.js';
import { DatabaseConnectError } from '../src/db/errors.js';
import { seedApiData } from './api-fixtures.js';
import { tempDir } from './helpers.js';
import { freshPostgresDatabase, TEST_POSTGRES_URL } from './test-database.js';

const skip = TEST_POSTGRES_URL
  ? false
  : 'needs LATHE_TEST_POSTGRES_URL (scripts/run-tests.mjs starts a server)';

/** Every row of every table, in a form that compares across engines (bytes as hex). */
async function dump(db: Db): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  const tables = (await db.kysely.introspection.getTables()).filter(
    (t) => !t.name.startsWith('kysely_') && !t.name.startsWith('sqlite_'),
  );
  for (const t of tables) {
    const k = db.kysely as unknown as Kysely<Record<string, Record<string, unknown>>>;
    const rows = await k.selectFrom(t.name).selectAll().execute();
    out[t.name] = rows
      .map((r) =>
        JSON.stringify(
          Object.fromEntries(
            Object.keys(r)
              .sort()
              .map((c) => [
                c,
                r[c] instanceof Uint8Array ? Buffer.from(r[c] as Uint8Array).toString('hex') : r[c],
              ]),
          ),
        ),
      )
      .sort();
  }
  return out;
}

describe('lathe copy-db', { skip }, () => {
  const dir = tempDir();
  const sqliteFile = join(dir.path, 'state.sqlite');
  let source: Db;
  before(async () => {
    // Always a SQLite source, whichever engine this pass runs the data tests on.
    source = await openAndMigrate({ url: `sqlite:${sqliteFile}` });
    const data = new DataLayer(source, new EventBus());
    const seed = await seedApiData(data);
    await data.apiTokens.add({ username: 'alice', name: 'ci', tokenHash: 'ab'.repeat(32), roles: ['admin'] });
    await data.schedulerState.set('nightly', 'last', { at: 1_700_000_000 });
    // A chunk stored compressed, with text outside ASCII.
    const big = await data.logs.add(seed.stepid, 'big', 't');
    await data.logs.append(big, 'é∂ line of output\n'.repeat(500));
  });
  after(async () => {
    await source.close();
    dir.cleanup();
  });

  it('copies every table and id from SQLite to PostgreSQL and back, nothing lost', async () => {
    const pgUrl = await freshPostgresDatabase('copy');
    const lines: string[] = [];
    const code = await main(['copy-db', `sqlite:${sqliteFile}`, pgUrl], {
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
    });
    assert.equal(code, 0, lines.join('\n'));
    assert.ok(!lines.join('\n').includes(new URL(pgUrl).password), 'the password is never printed');
    assert.match(lines.join('\n'), /logchunks: \d+ rows/);
    const pgDb = openDatabase({ url: pgUrl });
    const back = openDatabase({ url: `sqlite:${join(dir.path, 'back.sqlite')}` });
    try {
      const expected = await dump(source);
      for (const table of COPY_ORDER) assert.ok(table in expected, `the schema has ${table}`);
      assert.ok(expected.logchunks!.length >= 3 && expected.builds!.length === 5);
      assert.deepEqual(await dump(pgDb), expected);
      await copyDatabase(pgDb, back);
      assert.deepEqual(await dump(back), expected);
      // The sequences moved past the copied ids: a new build gets the next id, no clash.
      const maxId = Math.max(...expected.builds!.map((r) => (JSON.parse(r as string) as { id: number }).id));
      const data = new DataLayer(pgDb, new EventBus());
      const builderid = await data.builders.findOrCreate('after-copy');
      const { masterid } = await data.masters.register('after-copy');
      const ss = await data.sourcestamps.findOrCreate({ revision: 'new' });
      const bs = await data.buildsets.add({ sourcestampids: [ss], builderids: [builderid] });
      const brid = bs.buildrequestids.get(builderid)!;
      await data.buildrequests.claim([brid], masterid);
      const b = await data.builds.add({ builderid, buildrequestid: brid, workerid: null, masterid });
      assert.equal(b.buildid, maxId + 1);
    } finally {
      await pgDb.close();
      await back.close();
    }
  });

  it('refuses a target that holds data, and leaves it as it was', async () => {
    const pgUrl = await freshPostgresDatabase('copy');
    const target = await openAndMigrate({ url: pgUrl });
    try {
      await new DataLayer(target, new EventBus()).builders.findOrCreate('already-here');
      await assert.rejects(copyDatabase(source, target), (err: unknown) => {
        assert.ok(err instanceof CopyRefusedError);
        assert.match(err.message, /not empty \(table builders has 1 rows\)/);
        return true;
      });
      const rows = await dump(target);
      assert.equal(rows.builders!.length, 1);
      assert.equal(rows.builds!.length, 0);
    } finally {
      await target.close();
    }
  });
});

describe('PostgreSQL connection errors', { skip }, () => {
  it('names an unreachable server', async () => {
    await assert.rejects(
      openAndMigrate({ url: 'postgres://lathe:s3cret-pw@127.0.0.1:1/lathe' }),
      (err: unknown) => {
        assert.ok(err instanceof DatabaseConnectError, String(err));
        assert.match(
          err.message,
          /cannot connect to the database postgres:\/\/lathe:\*\*\*@127\.0\.0\.1:1\/lathe: connection refused/,
        );
        assert.ok(!err.message.includes('s3cret-pw'));
        return true;
      },
    );
  });

  it('says authentication failed, without the password', async () => {
    const url = new URL(TEST_POSTGRES_URL!);
    url.password = 'wrong-pw-123';
    await assert.rejects(openAndMigrate({ url: url.toString() }), (err: unknown) => {
      assert.ok(err instanceof DatabaseConnectError, String(err));
      assert.match(err.message, /authentication failed/);
      assert.ok(!err.message.includes('wrong-pw-123'));
      assert.ok(err.message.includes(':***@'));
      return true;
    });
  });
});
