// The IRC bot's parts that need no server: flood protection (on a clock the test moves),
// the per-user command rate, who may force and stop, bounded per-user state, which notify
// events a report is, and the options' checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessList } from '../src/reporters/irc/access.js';
import { LineNotSentError, LineQueue, type OutgoingLine } from '../src/reporters/irc/flood.js';
import { IrcOptionsError, resolveIrcOptions } from '../src/reporters/irc/options.js';
import { reportEvents, Subscriptions, TooManyError } from '../src/reporters/irc/subscriptions.js';
import { UserThrottle } from '../src/reporters/irc/throttle.js';
import type { BuildReport } from '../src/reporters/report.js';
import { ManualClock } from './manual-clock.js';

describe('flood protection', () => {
  const limits = { burst: 2, intervalMs: 1000, maxQueued: 6, maxQueuedPerTarget: 3 };
  const line = (target: string, text: string): OutgoingLine => ({ target, text, notice: false });

  it('sends a burst at once, then one line per interval, in order', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const written: string[] = [];
    const queue = new LineQueue((l) => written.push(l.text), limits, clock);
    const sent = ['a', 'b', 'c', 'd'].map((t) => queue.send(line('#x', t)));
    assert.deepEqual(written, ['a', 'b']);
    clock.advanceTo(clock.now() + 999);
    assert.deepEqual(written, ['a', 'b']);
    clock.advanceTo(clock.now() + 1);
    assert.deepEqual(written, ['a', 'b', 'c']);
    clock.advanceTo(clock.now() + 1000);
    assert.deepEqual(written, ['a', 'b', 'c', 'd']);
    await Promise.all(sent);
    // Idle long enough, the bucket is full again, and no fuller than the burst.
    clock.advanceTo(clock.now() + 60_000);
    for (const t of ['e', 'f', 'g']) queue.send(line('#x', t)).catch(() => {});
    assert.deepEqual(written.slice(4), ['e', 'f']);
    queue.clear('test over');
  });

  it('refuses lines over the bounds, per target and overall, and fails waiting lines on clear', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const written: string[] = [];
    const queue = new LineQueue((l) => written.push(`${l.target} ${l.text}`), { ...limits, burst: 1 }, clock);
    const first = queue.send(line('alice', '1'));
    const waiting = [2, 3, 4].map((n) => queue.send(line('alice', String(n))));
    await first;
    await assert.rejects(queue.send(line('ALICE', '5')), LineNotSentError);
    const others = [1, 2, 3].map((n) => queue.send(line(`u${n}`, 'x')));
    assert.equal(queue.queued, 6);
    await assert.rejects(queue.send(line('#chan', 'announcement')), /too many lines waiting/);
    queue.clear('connection closed');
    for (const p of [...waiting, ...others]) await assert.rejects(p, /connection closed/);
    assert.deepEqual(written, ['alice 1']);
    assert.equal(queue.queued, 0);
  });
});

describe('per-user command rate', () => {
  it('allows a burst, then one command per interval, and forgets the least recently seen', () => {
    let now = 0;
    const throttle = new UserThrottle({ burst: 2, intervalMs: 1000, maxUsers: 2 }, () => now);
    assert.deepEqual([throttle.take('a'), throttle.take('a'), throttle.take('a')], [true, true, false]);
    now = 999;
    assert.equal(throttle.take('a'), false);
    now = 1000;
    assert.deepEqual([throttle.take('a'), throttle.take('a')], [true, false]);
    throttle.take('b');
    throttle.take('c');
    assert.equal(throttle.size, 2);
    // 'a' was forgotten (bounded memory): it starts with a full burst again.
    assert.deepEqual([throttle.take('a'), throttle.take('a'), throttle.take('a')], [true, true, false]);
  });
});

describe('who may force and stop', () => {
  const sender = (nick: string, ident = 'u', hostname = 'host.example') => ({ nick, ident, hostname });
  const access = new AccessList(
    new Map([
      ['alice', new Set(['force', 'stop'] as const)],
      ['*!*@build.example.org', new Set(['force'] as const)],
      ['ops[?]!~ops@*', new Set(['stop'] as const)],
    ]),
  );

  it('matches nicks case-insensitively (IRC case mapping) and hostmasks as globs', () => {
    assert.equal(access.may(sender('Alice'), 'force'), true);
    assert.equal(access.may(sender('alice'), 'stop'), true);
    assert.equal(access.may(sender('alice2'), 'force'), false);
    assert.equal(access.may(sender('bob', 'x', 'build.example.org'), 'force'), true);
    assert.equal(access.may(sender('bob', 'x', 'build.example.org'), 'stop'), false);
    assert.equal(access.may(sender('bob', 'x', 'evil.build.example.org.attacker'), 'force'), false);
    // `[` is the upper case of `{` in IRC; `?` is any one character.
    assert.equal(access.may(sender('OPS{1}', '~ops', 'h'), 'stop'), true);
    assert.equal(access.may(sender('ops{1}', 'ops', 'h'), 'stop'), false);
  });

  it('lets nobody act when nothing is allowed', () => {
    const none = new AccessList(new Map());
    assert.equal(none.may(sender('alice'), 'force'), false);
    assert.equal(none.may(sender('alice'), 'stop'), false);
  });
});

describe('per-user state', () => {
  it('bounds subscribers and watches, per user and overall', () => {
    const subs = new Subscriptions({ maxSubscribers: 2, maxWatchesPerUser: 2, maxWatches: 3 });
    subs.notifyOn('a', ['failure']);
    subs.notifyOn('B', ['finished']);
    assert.throws(() => subs.notifyOn('c', ['failure']), TooManyError);
    assert.deepEqual(subs.notifyOn('b', ['started']), ['started', 'finished']);
    assert.deepEqual(subs.notifyOff('b', []), []);
    subs.notifyOn('c', ['failure']);

    subs.watchBuild(1, { replyTo: '#x', nick: 'a' });
    subs.watchBuild(2, { replyTo: '#x', nick: 'A' });
    assert.throws(() => subs.watchBuild(3, { replyTo: '#x', nick: 'a' }), /at most 2/);
    subs.watchRequest(7, { replyTo: 'b', nick: 'b' });
    assert.throws(() => subs.watchBuild(3, { replyTo: '#x', nick: 'c' }), /already waits for 3/);
    subs.requestStarted(7, 3);
    assert.deepEqual(subs.buildFinished(3), [{ replyTo: 'b', nick: 'b' }]);
    assert.deepEqual(subs.buildFinished(1), [{ replyTo: '#x', nick: 'a' }]);
    assert.deepEqual(subs.buildFinished(1), []);
    subs.watchBuild(4, { replyTo: '#x', nick: 'c' });
  });

  it('tells which notify events a report is', () => {
    const report = (results: 0 | 2, previousResults: 0 | 2 | null) =>
      ({ kind: 'build-finished', build: { results }, previousResults }) as unknown as BuildReport;
    assert.deepEqual([...reportEvents(report(2, 0))].sort(), ['failure', 'finished', 'problem']);
    assert.deepEqual([...reportEvents(report(0, 2))].sort(), ['finished', 'recovery', 'success']);
    assert.deepEqual([...reportEvents(report(2, 2))].sort(), ['failure', 'finished']);
    const subs = new Subscriptions();
    subs.notifyOn('fixer', ['recovery']);
    subs.notifyOn('all', ['finished']);
    assert.deepEqual(subs.subscribersOf(report(2, 0)), ['all']);
    assert.deepEqual(subs.subscribersOf(report(0, 2)), ['fixer', 'all']);
  });
});

describe('IRC reporter options', () => {
  const base = { host: 'irc.example.org', nick: 'lathebot' };

  it('applies defaults', () => {
    const s = resolveIrcOptions({ ...base, channels: ['#ci', { name: '#secret', key: 'k' }] });
    assert.equal(s.name, 'irc');
    assert.equal(s.port, 6667);
    assert.equal(resolveIrcOptions({ ...base, tls: true }).port, 6697);
    assert.deepEqual(s.channels, [{ name: '#ci' }, { name: '#secret', key: 'k' }]);
    assert.equal(s.allow.size, 0);
  });

  it('refuses bad options naming them', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ nick: 'has space' }, /^ircReporter: nick: "has space" is not a valid IRC nick$/],
      [{ channels: ['ci'] }, /channels\[0\]: "ci" is not a channel name/],
      [{ channels: [{ name: '#a', key: 'two words' }] }, /channels\[0\]\.key/],
      [{ allow: { alice: ['force', 'deploy'] } }, /allow\["alice"\]: unknown action "deploy"/],
      [{ port: 70000 }, /port: must be at most 65535/],
      [{ password: 'a\r\nQUIT' }, /password: must be a non-empty string without line breaks/],
      [{ flood: { intervalMs: 0 } }, /flood\.intervalMs: must be a positive integer/],
      [{ host: '' }, /host:/],
    ];
    for (const [options, message] of bad)
      assert.throws(
        () => resolveIrcOptions({ ...base, ...options } as never),
        (err: unknown) => {
          assert.ok(err instanceof IrcOptionsError);
          assert.match(err.message, message);
          return true;
        },
      );
  });
});
