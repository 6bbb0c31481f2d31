// Realtime: subscribe to topic patterns of the message queue over WebSocket or SSE and get
// each event with the full resource and its position; reconnect with the last position
// seen and get what was missed (or a `resync`).
//
// WebSocket `/api/v2/ws`, JSON text frames:
//   → { "cmd": "subscribe", "topic": "builders.3.builds", "after": "<stream>:<seq>", "id": 1 }
//     (a topic may also be written as a path: "/builders/3/builds"; `*` and `#` are wildcards)
//   → { "cmd": "unsubscribe", "topic": "builders.3.builds", "id": 2 }
//   ← { "type": "subscribed" | "unsubscribed", "topic", "id", "position" }
//   ← { "type": "event", "topic", "event", "resourceType", "position", "resource" }
//   ← { "type": "resync", "reason", "position" }
//   (events and resyncs also carry "subscription": the topic pattern they answer)
//   ← { "type": "error", "id"?, "error" }
// SSE `/api/v2/sse?topic=…&topic=…` (resume: the `Last-Event-ID` header browsers send, or
// `after=`): `id: <stream>:<seq>`, `event: <event>` or `resync`, `data:` the JSON above.
//
// A client that does not keep up (more than MAX_BUFFERED bytes waiting) is disconnected;
// it reconnects from its last position and loses nothing that is still retained.

import type { WebSocket } from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  formatPosition,
  type MessageQueue,
  type MqMessage,
  type MqSubscription,
  parsePosition,
} from '../api/mq/queue.js';

export const MAX_BUFFERED = 8 * 1024 * 1024;
const MAX_TOPICS = 100;

/** Read permission for realtime connections, which outlive the request that opened them. */
export interface RealtimeGuard {
  /** Whether the credential the connection was opened with may still read (checked on each subscribe). */
  mayRead(req: FastifyRequest): Promise<boolean>;
  /** Calls `close` when that credential is revoked (logout, token revoked); returns the unregistration. */
  onRevoked(req: FastifyRequest, close: () => void): () => void;
}

export interface RealtimeOptions {
  readonly heartbeatSeconds: number;
  readonly log: (line: string) => void;
  readonly guard: RealtimeGuard;
}

/** The close code of a WebSocket whose credential was revoked (4000+: the application's own). */
export const WS_CLOSE_REVOKED = 4403;

function frame(m: MqMessage): Record<string, unknown> {
  if (m.type === 'resync') return { type: 'resync', reason: m.reason, position: formatPosition(m.position) };
  return {
    type: 'event',
    topic: m.topic,
    event: m.event,
    resourceType: m.resourceType,
    position: formatPosition(m.position),
    resource: m.resource,
  };
}

/** A topic pattern, dotted (`builders.3.builds`) or as a REST path (`/builders/3/builds`). */
function checkTopic(topic: unknown): string | undefined {
  if (typeof topic !== 'string' || topic === '' || topic.length > 500) return undefined;
  const dotted = topic.startsWith('/') ? topic.slice(1).replaceAll('/', '.') : topic;
  return dotted.split('.').every((s) => s !== '') ? dotted : undefined;
}

export function registerRealtime(app: FastifyInstance, queue: MessageQueue, options: RealtimeOptions): void {
  const { guard } = options;
  app.get('/api/v2/ws', { websocket: true }, (socket: WebSocket, req) => {
    const unwatch = guard.onRevoked(req, () => socket.close(WS_CLOSE_REVOKED, 'credential revoked'));
    // null while the queue is still subscribing, so a second subscribe cannot slip in.
    const subs = new Map<string, MqSubscription | null>();
    const send = (obj: unknown) => {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > MAX_BUFFERED) {
        socket.close(1013, 'too slow: reconnect and resume');
        return;
      }
      socket.send(JSON.stringify(obj));
    };
    const handle = async (data: Buffer): Promise<void> => {
      let cmd: unknown;
      try {
        cmd = JSON.parse(String(data));
      } catch {}
      if (typeof cmd !== 'object' || cmd === null || Array.isArray(cmd))
        return send({ type: 'error', error: 'each message must be a JSON object' });
      const { cmd: verb, after: afterText, id = null } = cmd as Record<string, unknown>;
      const topic = checkTopic((cmd as Record<string, unknown>).topic);
      if (!topic)
        return send({ type: 'error', id, error: 'topic must be a dotted pattern such as builds.*.finished' });
      if (verb === 'unsubscribe') {
        subs.get(topic)?.unsubscribe();
        subs.delete(topic);
        return send({ type: 'unsubscribed', id, topic });
      }
      if (verb !== 'subscribe')
        return send({ type: 'error', id, error: 'cmd must be subscribe or unsubscribe' });
      // Checked again on each subscribe: the connection outlives its opening request.
      if (!(await guard.mayRead(req))) {
        send({
          type: 'error',
          id,
          error: 'not allowed to read any more (logged out, token revoked or role removed)',
        });
        return socket.close(WS_CLOSE_REVOKED, 'credential revoked');
      }
      if (subs.has(topic)) return send({ type: 'error', id, error: `already subscribed to ${topic}` });
      if (subs.size >= MAX_TOPICS)
        return send({ type: 'error', id, error: `at most ${MAX_TOPICS} subscriptions` });
      let after: ReturnType<typeof parsePosition>;
      if (afterText !== undefined && afterText !== null) {
        after = typeof afterText === 'string' ? parsePosition(afterText) : undefined;
        if (!after) return send({ type: 'error', id, error: 'after must be a position the server sent' });
      }
      subs.set(topic, null);
      // Answered before any replayed event, so the client knows the subscription stands.
      send({ type: 'subscribed', id, topic, position: formatPosition(queue.position()) });
      const sub = await queue.subscribe(
        [topic],
        (m) => send({ ...frame(m), subscription: topic }),
        after ? { after } : {},
      );
      // Unsubscribed or disconnected meanwhile: the entry is gone.
      if (subs.get(topic) === null) subs.set(topic, sub);
      else sub.unsubscribe();
    };
    // One message at a time: the permission check awaits, and an unsubscribe must not
    // overtake the subscribe sent before it.
    let pending: Promise<void> = Promise.resolve();
    socket.on('message', (data: Buffer) => {
      pending = pending
        .then(() => handle(data))
        .catch((err: unknown) => {
          send({ type: 'error', error: 'internal error' });
          options.log(`data API: WebSocket message failed: ${String(err)}`);
        });
    });
    socket.on('close', () => {
      unwatch();
      for (const sub of subs.values()) sub?.unsubscribe();
      subs.clear();
    });
  });

  app.get('/api/v2/sse', async (req, reply) => {
    const params = new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1));
    const topics = params.getAll('topic').map(checkTopic);
    if (topics.length === 0 || topics.length > MAX_TOPICS || topics.includes(undefined))
      return reply.code(400).send({
        error: `1..${MAX_TOPICS} topic parameters, dotted patterns such as builds.*.finished`,
        param: 'topic',
      });
    const resumeText =
      (req.headers['last-event-id'] as string | undefined) ?? params.get('after') ?? undefined;
    const after = resumeText === undefined ? undefined : parsePosition(resumeText);
    if (resumeText !== undefined && !after)
      return reply
        .code(400)
        .send({ error: 'Last-Event-ID/after must be a position the server sent', param: 'after' });
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    let sub: MqSubscription | undefined;
    const close = () => {
      unwatch();
      clearInterval(heartbeat);
      sub?.unsubscribe();
      if (!res.writableEnded) res.end();
    };
    const write = (m: MqMessage) => {
      if (res.writableEnded) return;
      if (res.writableLength > MAX_BUFFERED) return close();
      const event = m.type === 'resync' ? 'resync' : m.event;
      res.write(`id: ${formatPosition(m.position)}\nevent: ${event}\ndata: ${JSON.stringify(frame(m))}\n\n`);
    };
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), options.heartbeatSeconds * 1000);
    heartbeat.unref();
    const unwatch = guard.onRevoked(req, close);
    req.raw.on('close', close);
    res.write(`: position ${formatPosition(queue.position())}\n\n`);
    sub = await queue.subscribe(topics as string[], write, after ? { after } : {});
    if (res.writableEnded) sub.unsubscribe();
  });
}
