// The parts several masters share through the database, each between two data layers on
// one SQLite file (as two master processes would have): leases, the outbox relay, and the
// `cluster` setting's checks. The whole story with real masters is multi-master.test.ts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DataApi } from '../src/api/data-api.js';
import { InProcessQueue } from '../src/api/mq/in-process.js';
import { bridgeOutboxToQueue, CLUSTER_STREAM, outboxHistory } from '../src/api/mq/outbox-bridge.js';
import type { MqMessage, MqPosition } from '../src/api/mq/queue.js';
import type { BusMessage } from '../src/bus/events.js';
import { OutboxRelay, PollingWakeup } from '../src/cluster/outbox-relay.js';
import { ConfigError } from '../src/config/errors.js';
import { validateConfig } from '../src/config/validate.js';
import { expireMasters } from '../src/data/index.js';
import { waitFor } from './bbworker.js';
import { openData, type TestData, tempDir } from './helpers.js';

describe('leases', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  it('gives each lease to exactly one of two masters racing on one file', async () => {
    const file = join(dir.path, 'race.sqlite');
    const a = await openData(file);
    const b = await openData(file);
    const ma = (await a.data.masters.register('a')).masterid;
    const mb = (await b.data.masters.register('b')).masterid;
    const names = Array.from({ length: 60 }, (_, i) => `scheduler:s${i}`);
    const results = await Promise.all([
      ...names.map(async (n) => ((await a.data.leases.acquire(n, ma, 30)) ? [n, ma] : null)),
      ...[...names].reverse().map(async (n) => ((await b.data.leases.acquire(n, mb, 30)) ? [n, mb] : null)),
    ]);
    const won = results.filter((r): r is [string, number] => r !== null);
    assert.equal(won.length, names.length, 'every lease won exactly once');
    const rows = await a.data.leases.list();
    assert.equal(rows.length, names.length);
    for (const [name, masterid] of won) assert.equal(rows.find((r) => r.name === name)?.masterid, masterid);
    await a.close();
    await b.close();
  });

  it('is renewed by its holder, taken by another only once expired, freed when released', async () => {
    let clock = 1_000_000;
    const file = join(dir.path, 'expiry.sqlite');
    const a = await openData(file, () => clock);
    const b = await openData(file, () => clock);
    const ma = (await a.data.masters.register('a')).masterid;
    const mb = (await b.data.masters.register('b')).masterid;
    assert.ok(await a.data.leases.acquire('scheduler:x', ma, 10));
    clock += 8;
    assert.equal(await b.data.leases.acquire('scheduler:x', mb, 10), false);
    assert.ok(await a.data.leases.acquire('scheduler:x', ma, 10), 'renewed');
    clock += 8;
    assert.equal(await b.data.leases.acquire('scheduler:x', mb, 10), false, 'the renewal counts from then');
    clock += 3;
    assert.ok(await b.data.leases.acquire('scheduler:x', mb, 10), 'expired: taken over');
    assert.equal(await a.data.leases.acquire('scheduler:x', ma, 10), false, 'and not given back');
    await b.data.leases.release(mb);
    assert.ok(await a.data.leases.acquire('scheduler:x', ma, 10), 'released: free at once');
    await a.close();
    await b.close();
  });

  it('of a master that stopped responding are freed when it is expired', async () => {
    let clock = 2_000_000;
    const file = join(dir.path, 'expire-master.sqlite');
    const a = await openData(file, () => clock);
    const dead = (await a.data.masters.register('dead')).masterid;
    const alive = (await a.data.masters.register('alive')).masterid;
    assert.ok(await a.data.leases.acquire('changesource:poller', dead, 3600));
    clock += 120;
    await a.data.masters.heartbeat(alive);
    await expireMasters(a.data, alive, 60);
    assert.deepEqual(await a.data.leases.list(), []);
    await a.close();
  });
});

describe('changes offered again to a scheduler taken over', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  it('count as built when a buildset carries their source stamp or folded them in', async () => {
    const t = await openData(join(dir.path, 'folded.sqlite'));
    const builderid = await t.data.builders.findOrCreate('app');
    const older = await t.data.changes.add({ author: 'a', branch: 'main', revision: 'r1' });
    const newer = await t.data.changes.add({ author: 'a', branch: 'main', revision: 'r2' });
    const lone = await t.data.changes.add({ author: 'a', branch: 'main', revision: 'r3' });
    const newest = await t.data.changes.get(newer);
    // A tree-stable buildset: the newest change's source stamp, both changes listed.
    await t.data.buildsets.add({
      sourcestampids: [newest!.sourcestampid],
      builderids: [builderid],
      changeids: [older, newer],
    });
    assert.equal(await t.data.changes.hasBuildset(newer), true);
    assert.equal(await t.data.changes.hasBuildset(older), true, 'folded into the newer one');
    assert.equal(await t.data.changes.hasBuildset(lone), false);
    await t.close();
  });
});

describe('outbox relay', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  async function relayOn(t: TestData, name: string): Promise<{ relay: OutboxRelay; masterid: number }> {
    const { masterid } = await t.data.masters.register(name);
    const relay = new OutboxRelay({
      data: t.data,
      bus: t.bus,
      masterid,
      wakeup: new PollingWakeup(20),
      onError: (err) => {
        throw err;
      },
    });
    await relay.start();
    return { relay, masterid };
  }

  it("delivers one master's events to the other in order, as remote events, once", async () => {
    const file = join(dir.path, 'relay.sqlite');
    const a = await openData(file);
    const b = await openData(file);
    // Published before B's relay started: history, not news for B.
    const ra = await relayOn(a, 'a');
    a.bus.publish('builder.configured', { builderid: 99, name: 'before' });
    await ra.relay.flush();
    const rb = await relayOn(b, 'b');

    const atB: BusMessage[] = [];
    const localOnlyAtB: BusMessage[] = [];
    const atA: BusMessage[] = [];
    b.bus.subscribe('build.#', (m) => void atB.push(m));
    b.bus.subscribe('build.#', (m) => void localOnlyAtB.push(m), { localOnly: true });
    a.bus.subscribe('build.#', (m) => void atA.push(m));
    for (let n = 1; n <= 300; n++)
      a.bus.publish('build.finished', { buildid: n, builderid: 1, number: n, results: 0 });
    b.bus.publish('build.state', { buildid: 1000, builderid: 1, state: 'from b' });

    await waitFor(() => atB.length >= 301, 10_000, 'the events to reach B');
    await waitFor(() => atA.length >= 301, 10_000, "B's event to reach A");
    await new Promise((r) => setTimeout(r, 200));
    const remoteAtB = atB.filter((m) => m.origin !== undefined);
    assert.deepEqual(
      remoteAtB.map((m) => (m.payload as { buildid: number }).buildid),
      Array.from({ length: 300 }, (_, i) => i + 1),
      'all of them, in order, none twice',
    );
    assert.ok(remoteAtB.every((m) => m.origin === ra.masterid && m.kind === 'build.finished'));
    assert.deepEqual(
      localOnlyAtB.map((m) => m.kind),
      ['build.state'],
      'a localOnly subscriber sees only its own master',
    );
    // A got its own events once (locally) and B's event from the outbox.
    assert.equal(atA.filter((m) => m.origin === undefined).length, 300);
    assert.deepEqual(
      atA.filter((m) => m.origin !== undefined).map((m) => [m.kind, m.origin]),
      [['build.state', rb.masterid]],
    );
    assert.equal(rb.relay.received, 300);

    // Bounded: rows older than the retention go.
    assert.ok((await a.data.outbox.pruneBefore(a.data.ctx.now() + 1)) >= 302);
    assert.equal(await a.data.outbox.lastId(), 0);
    await ra.relay.stop();
    await rb.relay.stop();
    await a.close();
    await b.close();
  });
});

describe('data API positions across masters', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  /** A master's message queue as the web server sets it up with `cluster` (http/server.ts). */
  async function queueOn(t: TestData, name: string) {
    const { masterid } = await t.data.masters.register(name);
    const relay = new OutboxRelay({
      data: t.data,
      bus: t.bus,
      masterid,
      wakeup: new PollingWakeup(20),
      onError: (err) => {
        throw err;
      },
    });
    await relay.start();
    const api = new DataApi(t.data);
    const queue = new InProcessQueue({
      stream: CLUSTER_STREAM,
      startSeq: relay.lastSeen,
      durable: outboxHistory(t.data, api),
    });
    const bridge = bridgeOutboxToQueue(relay, api, queue);
    return {
      queue,
      async stop() {
        bridge.unsubscribe();
        await relay.stop();
      },
    };
  }

  async function resume(queue: InProcessQueue, after: MqPosition, count: number): Promise<MqMessage[]> {
    const got: MqMessage[] = [];
    const sub = await queue.subscribe(['builders.#'], (m) => void got.push(m), { after });
    await waitFor(() => got.length >= count, 10_000, `${count} messages after ${after.seq}`);
    await new Promise((r) => setTimeout(r, 100));
    sub.unsubscribe();
    return got;
  }

  it('resume on another master and on a restarted one, from memory or the outbox, or resync', async () => {
    const file = join(dir.path, 'positions.sqlite');
    const a = await openData(file);
    const b = await openData(file);
    const qa = await queueOn(a, 'a');
    const qb = await queueOn(b, 'b');
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push(await a.data.builders.findOrCreate(`builder-${i}`));
    const configured = (i: number) =>
      a.bus.publish('builder.configured', { builderid: ids[i]!, name: `builder-${i}` });

    // B's subscriber sees A's first event, then goes away.
    const atB: MqMessage[] = [];
    const sub = await qb.queue.subscribe(['builders.#'], (m) => void atB.push(m));
    configured(0);
    await waitFor(() => atB.length === 1, 10_000, "A's event on B");
    sub.unsubscribe();
    const seen = atB[0]!.position;
    assert.equal(seen.stream, CLUSTER_STREAM);
    for (let i = 1; i < 4; i++) configured(i);
    await waitFor(
      () => qb.queue.position().seq >= qa.queue.position().seq && qa.queue.position().seq > seen.seq + 2,
      10_000,
      'both to read all',
    );

    // On A (a position B gave): the same messages, at the same positions as B has them.
    const onA = await resume(qa.queue, seen, 3);
    const onB = await resume(qb.queue, seen, 3);
    const summary = (ms: MqMessage[]) =>
      ms.map((m) =>
        m.type === 'event' ? [m.position.seq, (m.resource as { builderid: number }).builderid] : m.type,
      );
    assert.deepEqual(summary(onA), summary(onB));
    assert.deepEqual(
      onA.map((m) => (m.type === 'event' ? (m.resource as { builderid: number }).builderid : m.type)),
      ids.slice(1),
    );

    // A master started since holds none of it in memory: read again from the outbox.
    const c = await openData(file);
    const qc = await queueOn(c, 'c');
    assert.deepEqual(summary(await resume(qc.queue, seen, 3)), summary(onB));
    // A position no master reached: another database's.
    const future = await resume(qc.queue, { stream: CLUSTER_STREAM, seq: seen.seq + 1000 }, 1);
    assert.deepEqual(
      future.map((m) => m.type),
      ['resync'],
    );
    // Pruned from the outbox: resync.
    await a.data.outbox.pruneBefore(a.data.ctx.now() + 1);
    const pruned = await resume(qc.queue, seen, 1);
    assert.deepEqual(
      pruned.map((m) => m.type),
      ['resync'],
    );

    for (const q of [qa, qb, qc]) await q.stop();
    for (const t of [a, b, c]) await t.close();
  });
});

describe('the cluster setting', () => {
  const base = { workers: [], builders: [] };
  const check = (cluster: unknown, extra: object = {}) =>
    validateConfig({ ...base, ...extra, cluster }, '/x/master.config.ts');

  it('defaults to every role, 30 s leases and a 10 s heartbeat', () => {
    assert.equal(validateConfig(base, '/x/master.config.ts').cluster, null);
    assert.deepEqual(check({}).cluster, {
      roles: ['builds', 'schedulers', 'web'],
      leaseSeconds: 30,
      heartbeatSeconds: 10,
      pollMs: 250,
      outboxRetentionSeconds: 3600,
    });
  });

  it('refuses a heartbeat that could let a live master lose its leases or claims, and unknown roles', () => {
    assert.throws(
      () => check({ leaseSeconds: 10, heartbeatSeconds: 6 }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /cluster\.heartbeatSeconds.*at most half of cluster\.leaseSeconds \(10\)/);
        return true;
      },
    );
    assert.throws(
      () => check({ heartbeatSeconds: 5 }, { masterExpirySeconds: 8 }),
      /masterExpirySeconds \(8\)/,
    );
    assert.throws(() => check({ roles: ['web', 'cook'] }), /cluster\.roles.*'builds', 'schedulers', 'web'/);
    assert.throws(() => check({ roles: [] }), /cluster\.roles/);
    assert.throws(() => check({ leaseSecs: 3 }), /cluster\.leaseSecs.*unknown setting/);
  });
});
