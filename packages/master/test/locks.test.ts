import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type LockEvent,
  LockManager,
  LockRequestError,
  LockWaitAbortedError,
  masterLock,
  withLocks,
  workerLock,
} from '../src/locks/index.js';

describe('locks', () => {
  it('lets counting holders share up to maxCount and keeps exclusive holders alone', async () => {
    const m = new LockManager();
    const db = masterLock('db', { maxCount: 2 });
    const a = await m.acquire([db.access('counting')], { owner: 'a' });
    const b = await m.acquire([db.access('counting')], { owner: 'b' });
    assert.deepEqual(m.holders('db'), { exclusive: false, counted: 2, capacity: 2 });
    let cGot = false;
    const c = m.acquire([db.access('counting')], { owner: 'c' }).then((h) => {
      cGot = true;
      return h;
    });
    let xGot = false;
    const x = m.acquire([db.access('exclusive')], { owner: 'x' }).then((h) => {
      xGot = true;
      return h;
    });
    await delay(5);
    assert.equal(cGot, false);
    assert.deepEqual(
      m.waiting().map((w) => w.owner),
      ['c', 'x'],
    );
    a.release();
    const ch = await c;
    await delay(5);
    assert.equal(xGot, false, 'exclusive waits for every counting holder');
    b.release();
    ch.release();
    const xh = await x;
    assert.deepEqual(m.holders('db'), { exclusive: true, counted: 0, capacity: 2 });
    xh.release();
    xh.release();
    assert.deepEqual(m.holders('db'), { exclusive: false, counted: 0, capacity: 2 });
  });

  it('keeps one lock per worker with per-worker capacities', async () => {
    const m = new LockManager();
    const cpu = workerLock('cpu', { maxCount: 1, maxCountForWorker: { big: 3 } });
    const onBig = await Promise.all(
      [1, 2, 3].map((i) => m.acquire([cpu.access('counting')], { owner: `b${i}`, worker: 'big' })),
    );
    const small = await m.acquire([cpu.access('counting')], { owner: 's1', worker: 'small' });
    let waited = false;
    const pending = m.acquire([cpu.access('counting')], {
      owner: 'b4',
      worker: 'big',
      onWaiting: () => {
        waited = true;
      },
    });
    assert.equal(waited, true);
    assert.equal(m.holders('cpu', 'big')?.counted, 3);
    assert.equal(m.holders('cpu', 'small')?.counted, 1);
    onBig[0]!.release();
    (await pending).release();
    small.release();
    for (const h of onBig.slice(1)) h.release();
    assert.throws(() => m.acquire([cpu.access('counting')], { owner: 'nobody' }), LockRequestError);
    assert.throws(
      () => m.acquire([masterLock('one').access('counting', 2)], { owner: 'greedy' }),
      /2 units requested but its capacity is 1/,
    );
  });

  it('acquires several locks all-or-nothing without deadlock under random contention', async () => {
    const m = new LockManager();
    const locks = ['a', 'b', 'c', 'd'].map((n) => masterLock(n, { maxCount: 2 }));
    const inUse = new Map<string, { ex: number; cnt: number }>();
    let maxSeen = 0;
    let done = 0;
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const jobs = Array.from({ length: 200 }, async (_, i) => {
      // Opposite acquisition orders on purpose: per-lock ordering would deadlock here.
      const picked = locks.filter(() => rnd() < 0.5);
      if (i % 2) picked.reverse();
      const accesses = picked.map((l) => l.access(rnd() < 0.3 ? 'exclusive' : 'counting'));
      await withLocks(
        m,
        accesses,
        async () => {
          for (const a of accesses) {
            const u = inUse.get(a.lock.name) ?? { ex: 0, cnt: 0 };
            if (a.mode === 'exclusive') u.ex++;
            else u.cnt++;
            inUse.set(a.lock.name, u);
            assert.ok(
              u.ex === 0 || (u.ex === 1 && u.cnt === 0),
              `lock ${a.lock.name} shared while exclusive`,
            );
            assert.ok(u.cnt <= 2, `lock ${a.lock.name} over capacity`);
            maxSeen = Math.max(maxSeen, u.cnt);
          }
          await delay(rnd() * 3);
          for (const a of accesses) {
            const u = inUse.get(a.lock.name)!;
            if (a.mode === 'exclusive') u.ex--;
            else u.cnt--;
          }
          done++;
        },
        { owner: `job ${i}` },
      );
    });
    await Promise.all(jobs);
    assert.equal(done, 200);
    assert.equal(maxSeen, 2, 'counting access was actually shared');
    assert.deepEqual(m.waiting(), []);
    for (const l of locks) assert.deepEqual(m.holders(l.name), { exclusive: false, counted: 0, capacity: 2 });
  });

  it('serves waiters in arrival order so an exclusive waiter is not starved by counting ones', async () => {
    const m = new LockManager();
    const l = masterLock('l', { maxCount: 5 });
    const order: string[] = [];
    const first = await m.acquire([l.access('counting')], { owner: 'first' });
    const ex = m.acquire([l.access('exclusive')], { owner: 'ex' }).then((h) => {
      order.push('ex');
      h.release();
    });
    // Capacity is free, but the exclusive waiter came first.
    const late = m.acquire([l.access('counting')], { owner: 'late' }).then((h) => {
      order.push('late');
      h.release();
    });
    await delay(5);
    assert.deepEqual(order, []);
    first.release();
    await Promise.all([ex, late]);
    assert.deepEqual(order, ['ex', 'late']);
  });

  it('applies a reconfigured capacity to the same lock and lets waiters in when it grows', async () => {
    const m = new LockManager();
    const before = masterLock('builds', { maxCount: 1 });
    const first = await m.acquire([before.access('counting')], { owner: 'first' });
    const waiting = m.acquire([before.access('counting')], { owner: 'second' });
    assert.equal(m.waiting().length, 1);
    // A reconfig creates a new definition with the same name and a larger capacity.
    const after = masterLock('builds', { maxCount: 3 });
    const third = await m.acquire([after.access('counting')], { owner: 'third' });
    const second = await waiting;
    assert.deepEqual(m.holders('builds'), { exclusive: false, counted: 3, capacity: 3 });
    for (const h of [first, second, third]) h.release();
  });

  it('lets a cancelled waiter leave the queue and unblocks those behind it', async () => {
    const events: LockEvent[] = [];
    const m = new LockManager();
    m.subscribe((e) => events.push(e));
    const a = masterLock('a');
    const b = masterLock('b');
    const holdA = await m.acquire([a.access('exclusive')], { owner: 'holder' });
    const ctl = new AbortController();
    const stuck = m.acquire([a.access('exclusive'), b.access('exclusive')], {
      owner: 'stuck',
      signal: ctl.signal,
    });
    // Only needs b, which is free, but the stuck waiter reserved it first.
    let ranB = false;
    const behind = withLocks(
      m,
      [b.access('exclusive')],
      () => {
        ranB = true;
      },
      { owner: 'behind' },
    );
    await delay(5);
    assert.equal(ranB, false);
    ctl.abort(new Error('build cancelled'));
    await assert.rejects(stuck, (e: unknown) => e instanceof LockWaitAbortedError && e.owner === 'stuck');
    await behind;
    assert.equal(ranB, true);
    assert.deepEqual(
      m.waiting().map((w) => w.owner),
      [],
    );
    holdA.release();
    assert.deepEqual(
      events.map((e) => `${e.type}:${e.owner}`),
      [
        'acquired:holder',
        'waiting:stuck',
        'waiting:behind',
        'abandoned:stuck',
        'acquired:behind',
        'released:behind',
        'released:holder',
      ],
    );
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(
      m.acquire([a.access('counting')], { owner: 'late', signal: pre.signal }),
      LockWaitAbortedError,
    );
  });

  it('releases on throw and on cancellation under contention with many cancelled waiters', async () => {
    const m = new LockManager();
    const l = masterLock('shared', { maxCount: 3 });
    await assert.rejects(
      withLocks(m, [l.access('exclusive')], () => Promise.reject(new Error('step failed')), {
        owner: 'thrower',
      }),
      /step failed/,
    );
    assert.equal(m.holders('shared')?.exclusive, false);
    let completed = 0;
    let cancelled = 0;
    const jobs = Array.from({ length: 60 }, (_, i) => {
      const ctl = new AbortController();
      if (i % 3 === 0) setTimeout(() => ctl.abort(), 2 + (i % 7));
      return withLocks(
        m,
        [l.access(i % 5 === 0 ? 'exclusive' : 'counting')],
        async () => {
          await delay(3);
          completed++;
        },
        { owner: `job ${i}`, signal: ctl.signal },
      ).catch((e: unknown) => {
        assert.ok(e instanceof LockWaitAbortedError);
        cancelled++;
      });
    });
    await Promise.all(jobs);
    assert.equal(completed + cancelled, 60);
    assert.ok(cancelled > 0 && completed > 20, `completed ${completed}, cancelled ${cancelled}`);
    assert.deepEqual(m.holders('shared'), { exclusive: false, counted: 0, capacity: 3 });
    assert.equal(m.waiting().length, 0);
  });
});
