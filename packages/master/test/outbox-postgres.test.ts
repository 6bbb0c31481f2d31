// The cross-master outbox on PostgreSQL, with real connections to the test server: a
// sequence value committed after a higher one is still relayed (in id order), and
// LISTEN/NOTIFY wakes another master's relay at once, also after its listening connection
// was killed. Needs the test server (LATHE_TEST_POSTGRES_URL, which scripts/run-tests.mjs
// starts; refused in CI when missing).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { EventBus } from '../src/bus/bus.js';
import type { BusMessage } from '../src/bus/events.js';
import { OutboxRelay, type OutboxWakeup } from '../src/cluster/outbox-relay.js';
import { PostgresWakeup } from '../src/cluster/postgres-wakeup.js';
import { DataLayer, OUTBOX_CHANNEL } from '../src/data/index.js';
import { type Db, openAndMigrate } from '../src/db/connection.js';
import { waitFor } from './bbworker.js';
import { freshPostgresDatabase, TEST_POSTGRES_URL } from './test-database.js';

const skip = TEST_POSTGRES_URL
  ? false
  : 'needs LATHE_TEST_POSTGRES_URL (scripts/run-tests.mjs starts a server)';

/** A master's data layer on its own pool, as another process would have. */
interface Side {
  readonly db: Db;
  readonly bus: EventBus;
  readonly data: DataLayer;
  readonly masterid: number;
}

/** Reads only when the test says so. */
const manual: OutboxWakeup = { listen: () => () => {} };

describe('the outbox on PostgreSQL', { skip }, () => {
  let url: string;
  const sides: Side[] = [];
  const relays: OutboxRelay[] = [];

  before(async () => {
    url = await freshPostgresDatabase('outbox');
  });

  after(async () => {
    for (const r of relays) await r.stop();
    for (const s of sides) await s.db.close();
  });

  async function side(name: string): Promise<Side> {
    const db = await openAndMigrate({ url });
    const bus = new EventBus();
    const data = new DataLayer(db, bus);
    const { masterid } = await data.masters.register(name);
    const s = { db, bus, data, masterid };
    sides.push(s);
    return s;
  }

  async function relay(s: Side, wakeup: OutboxWakeup, errors: unknown[] = []): Promise<OutboxRelay> {
    const r = new OutboxRelay({
      data: s.data,
      bus: s.bus,
      masterid: s.masterid,
      wakeup,
      onError: (err) => void errors.push(err),
    });
    await r.start();
    relays.push(r);
    return r;
  }

  const buildids = (messages: readonly BusMessage[]) =>
    messages.map((m) => (m.payload as { buildid: number }).buildid);

  it('relays a sequence value committed after a higher one, in id order', async () => {
    const a = await side('order-a');
    const b = await side('order-b');
    const readerAtB = await relay(b, manual);
    const atB: BusMessage[] = [];
    b.bus.subscribe('build.#', (m) => void atB.push(m));

    // A slow writer takes the next id and has not committed yet…
    const slow = new pg.Client({ connectionString: url });
    await slow.connect();
    try {
      await slow.query('begin');
      const taken = await slow.query<{ id: number }>(
        `insert into mq_outbox (masterid, kind, payload, created_at)
         values ($1, 'build.state', '{"buildid":1,"builderid":1,"state":"slow"}', 0) returning id`,
        [a.masterid],
      );
      // …while A appends the one after it.
      const quick = a.data.outbox.append(a.masterid, [
        { kind: 'build.state', payload: { buildid: 2, builderid: 1, state: 'quick' } },
      ]);
      await new Promise((r) => setTimeout(r, 300));
      await readerAtB.poll();
      assert.deepEqual(buildids(atB), [], 'nothing past the uncommitted id');
      await slow.query('commit');
      await quick;
      await readerAtB.poll();
      assert.deepEqual(buildids(atB), [1, 2], 'both, in id order');
      const ids = await b.db.kysely.selectFrom('mq_outbox').select('id').orderBy('id').execute();
      assert.equal(ids[0]?.id, taken.rows[0]?.id);
    } finally {
      await slow.end();
    }
  });

  it('wakes the other masters with NOTIFY, also after the listening connection was killed', async () => {
    const a = await side('notify-a');
    const b = await side('notify-b');
    const errors: unknown[] = [];
    // The safety-net poll is far off: only a notification can deliver within the waits below.
    const wakeup = new PostgresWakeup({
      listen: b.db.listen!,
      channel: OUTBOX_CHANNEL,
      masterid: b.masterid,
      safetyPollMs: 600_000,
      retryMs: 100,
      onError: (err) => void errors.push(err),
    });
    await relay(b, wakeup, errors);
    const atB: BusMessage[] = [];
    b.bus.subscribe('build.#', (m) => void atB.push(m));
    const listening = async (): Promise<number[]> => {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        const r = await admin.query<{ pid: number }>(
          `select pid from pg_stat_activity where datname = current_database() and query like 'LISTEN%'`,
        );
        return r.rows.map((x) => x.pid);
      } finally {
        await admin.end();
      }
    };
    await waitFor(async () => (await listening()).length === 1, 10_000, 'B to listen');

    const started = Date.now();
    await a.data.outbox.append(a.masterid, [
      { kind: 'build.state', payload: { buildid: 10, builderid: 1, state: 'x' } },
    ]);
    await waitFor(() => atB.length === 1, 5_000, 'the notification to wake B');
    assert.ok(Date.now() - started < 5_000);

    // The server ends the listening connection: B connects again and reads what it missed.
    const [pid] = await listening();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('select pg_terminate_backend($1)', [pid]);
    await admin.end();
    await a.data.outbox.append(a.masterid, [
      { kind: 'build.state', payload: { buildid: 11, builderid: 1, state: 'x' } },
    ]);
    await waitFor(() => atB.length === 2, 10_000, 'B to read after listening again');
    await waitFor(async () => (await listening()).length === 1, 10_000, 'B to listen again');
    await a.data.outbox.append(a.masterid, [
      { kind: 'build.state', payload: { buildid: 12, builderid: 1, state: 'x' } },
    ]);
    await waitFor(() => atB.length === 3, 5_000, 'the notification on the new connection');
    assert.deepEqual(buildids(atB), [10, 11, 12]);
    assert.ok(errors.length >= 1, 'the lost connection was reported');
  });

  it('leaves kinds nobody here subscribes to for the next read, then delivers them in order', async () => {
    const a = await side('kinds-a');
    const b = await side('kinds-b');
    const wakeup = new PostgresWakeup({
      listen: b.db.listen!,
      channel: OUTBOX_CHANNEL,
      masterid: b.masterid,
      safetyPollMs: 600_000,
      onError: () => {},
    });
    const readerAtB = await relay(b, wakeup);
    const finished: BusMessage[] = [];
    b.bus.subscribe('build.finished', (m) => void finished.push(m));
    // Woken at once by a kind it wants: B is listening.
    const done = { buildid: 20, builderid: 1, number: 1, results: 0 };
    await a.data.outbox.append(a.masterid, [{ kind: 'build.finished', payload: done }]);
    await waitFor(() => finished.length === 1, 5_000, 'B to read a build.finished');
    const seen = readerAtB.lastSeen;

    await a.data.outbox.append(a.masterid, [
      { kind: 'build.state', payload: { buildid: 21, builderid: 1, state: 'unwanted' } },
    ]);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(readerAtB.lastSeen, seen, 'no read for a kind nobody at B subscribes to');

    const atB: BusMessage[] = [];
    b.bus.subscribe('#', (m) => void atB.push(m));
    await a.data.outbox.append(a.masterid, [{ kind: 'build.finished', payload: { ...done, buildid: 22 } }]);
    await waitFor(() => atB.length === 2, 5_000, 'B to read both');
    assert.deepEqual(
      atB.map((m) => [m.kind, (m.payload as { buildid: number }).buildid]),
      [
        ['build.state', 21],
        ['build.finished', 22],
      ],
    );
  });
});
