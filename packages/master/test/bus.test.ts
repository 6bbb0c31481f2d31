import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBus, routingKey } from '../src/bus/bus.js';
import { compilePattern, matches } from '../src/bus/pattern.js';

const started = { buildid: 7, builderid: 3, number: 1, buildrequestid: 9, workerid: null, masterid: 1 };

describe('event bus', () => {
  it('matches routing keys with * and # wildcards', () => {
    const key = routingKey('build.finished', { buildid: 7, builderid: 3, number: 1, results: 0 });
    assert.deepEqual(key, ['build', 'finished', '3', '7']);
    const m = (p: string) => matches(compilePattern(p), key);
    assert.ok(m('build.finished'));
    assert.ok(m('build.*'));
    assert.ok(m('*.finished'));
    assert.ok(m('#'));
    assert.ok(m('build.#.7'));
    assert.ok(m('build.finished.3.7'));
    assert.ok(m('build.finished.*.7'));
    assert.ok(!m('build.finished.4'));
    assert.ok(!m('build.started'));
    assert.ok(!m('step.#'));
    assert.ok(!m('build.finished.*.8'));
    assert.throws(() => compilePattern('build..x'));
  });

  it('delivers typed messages asynchronously, in order, only to matching subscriptions', async () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.subscribe('build.*', (msg) => {
      // msg.kind narrows the payload type.
      if (msg.kind === 'build.started') seen.push(`started #${msg.payload.number}`);
      if (msg.kind === 'build.finished') seen.push(`finished ${msg.payload.results}`);
    });
    const steps: number[] = [];
    bus.subscribe('step.started', (msg) => {
      steps.push(msg.payload.stepid);
    });
    bus.publish('build.started', started);
    assert.deepEqual(seen, [], 'handlers never run inside publish');
    bus.publish('build.finished', { buildid: 7, builderid: 3, number: 1, results: 2 });
    bus.publish('log.append', { logid: 1, stepid: 1, firstLine: 0, lastLine: 1 });
    await bus.idle();
    assert.deepEqual(seen, ['started #1', 'finished 2']);
    assert.deepEqual(steps, []);
  });

  it('keeps a slow consumer from stalling the publisher or growing without bound', async () => {
    const bus = new EventBus();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slowSeen: number[] = [];
    const slow = bus.subscribe(
      'log.append',
      async (msg) => {
        await gate;
        slowSeen.push(msg.payload.firstLine);
      },
      { maxQueue: 10 },
    );
    const fastSeen: number[] = [];
    bus.subscribe('log.#', (msg) => {
      if (msg.kind === 'log.append') fastSeen.push(msg.payload.firstLine);
    });
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++)
      bus.publish('log.append', { logid: 1, stepid: 1, firstLine: i, lastLine: i });
    assert.ok(performance.now() - t0 < 500);
    assert.ok(slow.queued <= 10);
    release();
    await bus.idle();
    assert.equal(fastSeen.length, 1000);
    // The slow one kept the newest ten (drop-oldest).
    assert.deepEqual(slowSeen, [990, 991, 992, 993, 994, 995, 996, 997, 998, 999]);
    assert.equal(slow.dropped, 990);
  });

  it('can cut off a consumer that overflows, and reports handler errors without throwing', async () => {
    const errors: unknown[] = [];
    const cut: string[] = [];
    const bus = new EventBus({
      onHandlerError: (r) => errors.push(r.error),
      onOverflow: (s) => cut.push(s.name),
    });
    const sub = bus.subscribe('build.started', () => new Promise<void>(() => {}), {
      maxQueue: 2,
      overflow: 'unsubscribe',
      name: 'stuck-reporter',
    });
    bus.subscribe('build.started', () => {
      throw new Error('boom');
    });
    for (let i = 0; i < 5; i++) bus.publish('build.started', started);
    assert.equal(sub.active, false);
    assert.deepEqual(cut, ['stuck-reporter']);
    await bus.idle();
    assert.equal(errors.length, 5);
    assert.equal(bus.subscriptionCount, 1);
  });

  it('tells whether a subscription would get some remote event of a kind, whatever its ids', () => {
    const bus = new EventBus();
    assert.ok(!bus.wantsRemote('build.started'), 'nobody subscribed');
    // The outbox relay's own subscription takes local events only: it wants nothing remote.
    const relay = bus.subscribe('#', () => {}, { localOnly: true });
    assert.ok(!bus.wantsRemote('build.started'));
    const one = bus.subscribe('build.finished.*.7', () => {});
    assert.ok(bus.wantsRemote('build.finished'), 'ids past the kind may match');
    assert.ok(!bus.wantsRemote('build.started'));
    const steps = bus.subscribe('*.started', () => {});
    assert.ok(bus.wantsRemote('build.started'));
    assert.ok(bus.wantsRemote('step.started'));
    assert.ok(!bus.wantsRemote('step.finished'));
    steps.unsubscribe();
    one.unsubscribe();
    assert.ok(!bus.wantsRemote('build.finished'), 'not after unsubscribing');
    const all = bus.subscribe('log.#', () => {});
    assert.ok(bus.wantsRemote('log.append') && !bus.wantsRemote('step.started'));
    all.unsubscribe();
    relay.unsubscribe();
  });
});
