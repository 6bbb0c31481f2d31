// The data API's message queue and its realtime faces: sequences and resume in the
// in-process queue, the bridge from the master's bus (full resources at every path), and
// WebSocket and SSE clients that disconnect, miss events and resume with none lost.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { DataApi } from '../src/api/data-api.js';
import { bridgeBusToQueue } from '../src/api/mq/bridge.js';
import { InProcessQueue } from '../src/api/mq/in-process.js';
import { formatPosition, type MqMessage, parsePosition } from '../src/api/mq/queue.js';
import type { Subscription } from '../src/bus/bus.js';
import { buildApiApp } from '../src/http/app.js';
import { SUCCESS } from '../src/results.js';
import { type ApiSeed, seedApiData } from './api-fixtures.js';
import { openData, type TestData, tempDir } from './helpers.js';

const publication = (n: number, builderid = 1) => ({
  topics: [`builds.${n}.new`, `builders.${builderid}.builds.${n}.new`],
  resourceType: 'builds',
  event: 'new',
  resource: { buildid: n, builderid },
});

describe('InProcessQueue: sequences, resume, resync', () => {
  it('numbers messages in order and delivers one matching several patterns once', async () => {
    const q = new InProcessQueue();
    const got: MqMessage[] = [];
    await q.subscribe(['builds.*.new', 'builders.1.builds'], (m) => got.push(m));
    q.publish(publication(1));
    q.publish(publication(2, 2));
    q.publish(publication(3));
    assert.deepEqual(
      got.map((m) => (m.type === 'event' ? [m.topic, m.position.seq] : m.type)),
      [
        ['builds.1.new', 1],
        ['builds.2.new', 2],
        ['builds.3.new', 3],
      ],
    );
    const narrow: MqMessage[] = [];
    await q.subscribe(['builders.2'], (m) => narrow.push(m));
    q.publish(publication(4, 2));
    assert.deepEqual(
      narrow.map((m) => m.type === 'event' && m.topic),
      ['builders.2.builds.4.new'],
    );
  });

  it('replays what a subscriber missed after its position, then goes on live', async () => {
    const q = new InProcessQueue();
    for (let i = 1; i <= 5; i++) q.publish(publication(i));
    const got: number[] = [];
    await q.subscribe(['builds'], (m) => m.type === 'event' && got.push(m.position.seq), {
      after: { stream: q.stream, seq: 2 },
    });
    q.publish(publication(6));
    assert.deepEqual(got, [3, 4, 5, 6]);
  });

  it('answers resync when the history is gone, the stream is another, or the position is ahead', async () => {
    const q = new InProcessQueue({ history: 3 });
    for (let i = 1; i <= 10; i++) q.publish(publication(i));
    const answers = async (after: { stream: string; seq: number }) => {
      const got: MqMessage[] = [];
      await q.subscribe(['#'], (m) => got.push(m), { after });
      return got.map((m) => (m.type === 'resync' ? `resync ${m.position.seq}` : m.position.seq));
    };
    assert.deepEqual(await answers({ stream: q.stream, seq: 7 }), [8, 9, 10], 'still retained');
    assert.deepEqual(await answers({ stream: q.stream, seq: 6 }), ['resync 10'], 'seq 7 is gone');
    assert.deepEqual(await answers({ stream: 'other', seq: 9 }), ['resync 10']);
    assert.deepEqual(await answers({ stream: q.stream, seq: 11 }), ['resync 10']);
    q.gap('test');
    assert.deepEqual(await answers({ stream: q.stream, seq: 9 }), ['resync 10'], 'a gap loses the history');
  });

  it('formats and parses positions', () => {
    const p = { stream: 'abc_-9', seq: 42 };
    assert.deepEqual(parsePosition(formatPosition(p)), p);
    assert.equal(parsePosition('no-colon'), undefined);
    assert.equal(parsePosition('a:b'), undefined);
  });
});

describe('data API realtime over the master’s bus (real SQLite, HTTP, WebSocket, SSE)', () => {
  const dir = tempDir('lathe-api-rt-');
  let t: TestData;
  let api: DataApi;
  let queue: InProcessQueue;
  let bridge: Subscription;
  let app: FastifyInstance;
  let base: string;
  let seed: ApiSeed;

  before(async () => {
    t = await openData(join(dir.path, 'rt.sqlite'));
    seed = await seedApiData(t.data);
    api = new DataApi(t.data);
    queue = new InProcessQueue();
    bridge = bridgeBusToQueue(t.bus, api, queue);
    app = await buildApiApp({ api, queue });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });

  beforeEach(() => t.bus.idle());

  after(async () => {
    bridge.unsubscribe();
    await app.close();
    await t.close();
    dir.cleanup();
  });

  /** A new build of alpha that finishes: two events on its topics (new, finished). */
  async function runBuild(): Promise<number> {
    const bs = await t.data.buildsets.add({ sourcestampids: [seed.sourcestampid], builderids: [seed.alpha] });
    const brid = bs.buildrequestids.get(seed.alpha)!;
    await t.data.buildrequests.claim([brid], seed.masterid);
    const { buildid } = await t.data.builds.add({
      builderid: seed.alpha,
      buildrequestid: brid,
      workerid: seed.workerid,
      masterid: seed.masterid,
    });
    await t.data.builds.finish(buildid, SUCCESS, 'done');
    await t.bus.idle();
    return buildid;
  }

  it('publishes every write with the full resource at each path it lives at', async () => {
    const got: MqMessage[] = [];
    const sub = await queue.subscribe(
      ['builds.*.finished', `builders.${seed.alpha}.builds.*.finished`],
      (m) => got.push(m),
    );
    const got2: MqMessage[] = [];
    const sub2 = await queue.subscribe([`builders.${seed.alpha}.builds.*.finished`], (m) => got2.push(m));
    const buildid = await runBuild();
    sub.unsubscribe();
    sub2.unsubscribe();
    const full = (await api.get(`/builds/${buildid}`)).builds as Record<string, unknown>[];
    assert.equal(got.length, 1, 'once per subscription, though both patterns match');
    const [event] = got;
    assert.ok(event?.type === 'event');
    assert.equal(event.topic, `builds.${buildid}.finished`);
    assert.deepEqual(event.resource, full[0], 'the full build, as the REST API reads it');
    assert.ok(got2[0]?.type === 'event');
    assert.equal(got2[0].topic, `builders.${seed.alpha}.builds.${full[0]!.number}.finished`);
    assert.deepEqual(got2[0].resource, full[0]);
  });

  it('tells subscribers to resync when the bridge had to drop bus events', async () => {
    const lossy = new InProcessQueue();
    const narrow = bridgeBusToQueue(t.bus, api, lossy, { maxQueue: 1 });
    const got: MqMessage[] = [];
    await lossy.subscribe(['workers'], (m) => got.push(m));
    // Published together, before the bridge's handler runs: a queue of one keeps the last.
    for (let i = 0; i < 3; i++)
      t.bus.publish('worker.state', { workerid: seed.workerid, paused: false, graceful: false });
    await t.bus.idle();
    await t.data.workers.setState(seed.workerid, { paused: false, graceful: false });
    await t.bus.idle();
    narrow.unsubscribe();
    assert.deepEqual(
      got.map((m) => m.type),
      ['resync', 'event', 'event'],
    );
  });

  it('publishes log appends at logs.<id>.append with the log’s new line count', async () => {
    const got: MqMessage[] = [];
    const logid = await t.data.logs.add(seed.stepid, 'more', 't');
    await t.bus.idle();
    const sub = await queue.subscribe([`logs.${logid}.append`], (m) => got.push(m));
    // The bridge reads the log once the append committed: an event carries the count as
    // read then, so each append is let through before the next one.
    await t.data.logs.append(logid, 'a\nb\n');
    await t.bus.idle();
    await t.data.logs.append(logid, 'c\n');
    await t.bus.idle();
    sub.unsubscribe();
    assert.deepEqual(
      got.map((m) => m.type === 'event' && m.resource.num_lines),
      [2, 3],
    );
  });

  it('a WebSocket client that reconnects with its last position misses nothing', async () => {
    const topic = `builders.${seed.alpha}.builds`;
    const first = await wsClient(`ws://${base}/api/v2/ws`);
    // A topic can be written as a REST path too.
    first.send({ cmd: 'subscribe', topic: `/builders/${seed.alpha}/builds`, id: 1 });
    assert.deepEqual((({ type, topic, id }) => ({ type, topic, id }))(await first.next()), {
      type: 'subscribed',
      topic,
      id: 1,
    });
    const b1 = await runBuild();
    const live = [await first.next(), await first.next()];
    assert.deepEqual(
      live.map((m) => [m.event, (m.resource as { buildid: number }).buildid]),
      [
        ['new', b1],
        ['finished', b1],
      ],
    );
    const last = live[1]!.position as string;
    first.close();
    await first.closed;

    // Missed while away: two builds, four events.
    const b2 = await runBuild();
    const b3 = await runBuild();

    const second = await wsClient(`ws://${base}/api/v2/ws`);
    second.send({ cmd: 'subscribe', topic, after: last, id: 2 });
    assert.equal((await second.next()).type, 'subscribed');
    const b4Promise = runBuild();
    const resumed = [];
    for (let i = 0; i < 6; i++) resumed.push(await second.next());
    const b4 = await b4Promise;
    assert.deepEqual(
      resumed.map((m) => [m.event, (m.resource as { buildid: number }).buildid]),
      [
        ['new', b2],
        ['finished', b2],
        ['new', b3],
        ['finished', b3],
        ['new', b4],
        ['finished', b4],
      ],
    );
    const seqs = resumed.map((m) => parsePosition(m.position as string)!.seq);
    assert.deepEqual(
      [...seqs].sort((a, b) => a - b),
      seqs,
      'in position order',
    );
    assert.ok(seqs[0]! > parsePosition(last)!.seq);
    second.close();
    await second.closed;
  });

  it('a WebSocket client resuming from a position that is gone is told to resync', async () => {
    const ws = await wsClient(`ws://${base}/api/v2/ws`);
    ws.send({ cmd: 'subscribe', topic: 'builds', after: 'otherstream:3' });
    assert.equal((await ws.next()).type, 'subscribed');
    const m = await ws.next();
    assert.equal(m.type, 'resync');
    assert.match(m.reason as string, /restarted/);
    ws.send({ cmd: 'subscribe', topic: 'a..b' });
    assert.equal((await ws.next()).type, 'error');
    ws.send({ cmd: 'subscribe', topic: 'builds', after: 'garbage' });
    assert.equal((await ws.next()).type, 'error');
    ws.send({ cmd: 'subscribe', topic: 'builds' });
    assert.equal((await ws.next()).type, 'error', 'already subscribed');
    for (const frame of ['null', '5', '[', '"x"']) {
      ws.sendRaw(frame);
      assert.deepEqual(
        await ws.next(),
        { type: 'error', error: 'each message must be a JSON object' },
        frame,
      );
    }
    ws.send({ cmd: 'unsubscribe', topic: 'builds', id: 9 });
    assert.deepEqual(await ws.next(), { type: 'unsubscribed', id: 9, topic: 'builds' });
    ws.close();
    await ws.closed;
  });

  it('an SSE client that reconnects with Last-Event-ID misses nothing', async () => {
    const url = `http://${base}/api/v2/sse?topic=builds.*.finished`;
    const first = await sseClient(url);
    const b1 = await runBuild();
    const e1 = await first.next();
    assert.equal(e1.event, 'finished');
    assert.equal((e1.data.resource as { buildid: number }).buildid, b1);
    first.close();

    const b2 = await runBuild();
    const b3 = await runBuild();
    const second = await sseClient(url, { 'last-event-id': e1.id });
    const got = [await second.next(), await second.next()];
    const b4 = runBuild();
    got.push(await second.next());
    assert.deepEqual(
      got.map((e) => (e.data.resource as { buildid: number }).buildid),
      [b2, b3, await b4],
    );
    second.close();

    const bad = await fetch(`http://${base}/api/v2/sse?topic=builds&after=nope`);
    assert.equal(bad.status, 400);
    assert.equal((await fetch(`http://${base}/api/v2/sse`)).status, 400);
  });
});

describe('data API server shutdown with realtime clients connected', () => {
  it('closes open WebSocket and SSE connections instead of waiting for them', async () => {
    const dir = tempDir('lathe-api-close-');
    const t = await openData(join(dir.path, 'close.sqlite'));
    const app = await buildApiApp({ api: new DataApi(t.data), queue: new InProcessQueue() });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const sse = await fetch(`http://${base}/api/v2/sse?topic=builds`);
    const ws = await wsClient(`ws://${base}/api/v2/ws`);
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      app.close().then(() => 'closed'),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve('still waiting after 5 s'), 5000);
      }),
    ]);
    clearTimeout(timer);
    assert.equal(closed, 'closed');
    await ws.closed;
    // The SSE stream ends (done, or cut off) rather than staying open.
    const reader = sse.body!.getReader();
    const ended = await (async () => {
      try {
        for (;;) if ((await reader.read()).done) return true;
      } catch {
        return true;
      }
    })();
    assert.ok(ended);
    await t.close();
    dir.cleanup();
  });
});

interface WsClient {
  send(obj: unknown): void;
  sendRaw(text: string): void;
  next(): Promise<Record<string, unknown>>;
  close(): void;
  readonly closed: Promise<void>;
}

async function wsClient(url: string): Promise<WsClient> {
  const ws = new WebSocket(url);
  const inbox: Record<string, unknown>[] = [];
  const waiting: ((m: Record<string, unknown>) => void)[] = [];
  ws.addEventListener('message', (e) => {
    const m = JSON.parse(String(e.data)) as Record<string, unknown>;
    const w = waiting.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  const closed = new Promise<void>((resolve) => ws.addEventListener('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)));
  });
  return {
    send: (obj) => ws.send(JSON.stringify(obj)),
    sendRaw: (text) => ws.send(text),
    next: () =>
      inbox.length > 0
        ? Promise.resolve(inbox.shift()!)
        : new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('no message within 5 s')), 5000);
            waiting.push((m) => {
              clearTimeout(timer);
              resolve(m);
            });
          }),
    close: () => ws.close(),
    closed,
  };
}

interface SseEvent {
  readonly id: string;
  readonly event: string;
  readonly data: Record<string, unknown>;
}

async function sseClient(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    async next(): Promise<SseEvent> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(':')) continue;
          const field = (name: string) => block.match(new RegExp(`^${name}: (.*)$`, 'm'))?.[1];
          return { id: field('id')!, event: field('event')!, data: JSON.parse(field('data')!) };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('SSE stream ended');
        buffer += value;
      }
    },
    close: () => controller.abort(),
  };
}
