// The in-process MessageQueue: one stream per master run, a bounded history for resume.
import { randomBytes } from 'node:crypto';
import { type CompiledPattern, compilePattern, matches } from '../../bus/pattern.js';
import type {
  MessageQueue,
  MqEvent,
  MqMessage,
  MqPosition,
  MqPublication,
  MqSubscribeOptions,
  MqSubscription,
} from './queue.js';

interface Stored {
  readonly seq: number;
  readonly keys: readonly (readonly string[])[];
  readonly publication: MqPublication;
}

interface Sub {
  readonly patterns: readonly CompiledPattern[];
  readonly handler: (message: MqMessage) => void;
  active: boolean;
}

export interface InProcessQueueOptions {
  /** Messages kept for resuming subscribers; default 10,000. */
  readonly history?: number;
  /** Called when a handler throws; the default writes to stderr. */
  readonly onHandlerError?: (error: unknown) => void;
}

export class InProcessQueue implements MessageQueue {
  readonly stream = randomBytes(6).toString('base64url');
  readonly #history: Stored[] = [];
  readonly #limit: number;
  readonly #subs = new Set<Sub>();
  readonly #onError: (error: unknown) => void;
  #seq = 0;
  /** History before this sequence is gone (trimmed, or dropped by `gap`). */
  #firstKept = 1;

  constructor(options: InProcessQueueOptions = {}) {
    this.#limit = options.history ?? 10_000;
    this.#onError = options.onHandlerError ?? ((e) => console.error('message queue: handler failed:', e));
  }

  position(): MqPosition {
    return { stream: this.stream, seq: this.#seq };
  }

  publish(publication: MqPublication): void {
    const stored: Stored = {
      seq: ++this.#seq,
      keys: publication.topics.map((t) => t.split('.')),
      publication,
    };
    this.#history.push(stored);
    if (this.#history.length > this.#limit) {
      this.#history.splice(0, this.#history.length - this.#limit);
      this.#firstKept = this.#history[0]!.seq;
    }
    for (const sub of this.#subs) this.#offer(sub, stored);
  }

  /**
   * Messages were lost before reaching the queue (the bus dropped some): no position
   * before now can be resumed exactly, and live subscribers are told to resync.
   */
  gap(reason: string): void {
    this.#history.length = 0;
    this.#firstKept = this.#seq + 1;
    const position = this.position();
    for (const sub of this.#subs) this.#deliver(sub, { type: 'resync', reason, position });
  }

  async subscribe(
    patterns: readonly string[],
    handler: (message: MqMessage) => void,
    options: MqSubscribeOptions = {},
  ): Promise<MqSubscription> {
    if (patterns.length === 0) throw new Error('subscribe needs at least one pattern');
    const sub: Sub = { patterns: patterns.map(compilePattern), handler, active: true };
    const { after } = options;
    if (after) {
      if (after.stream !== this.stream)
        this.#deliver(sub, { type: 'resync', reason: 'the master restarted', position: this.position() });
      else if (after.seq > this.#seq)
        this.#deliver(sub, { type: 'resync', reason: 'position from the future', position: this.position() });
      else if (after.seq + 1 < this.#firstKept)
        this.#deliver(sub, {
          type: 'resync',
          reason: `history before ${this.#firstKept} is no longer kept`,
          position: this.position(),
        });
      else for (const stored of this.#history) if (stored.seq > after.seq) this.#offer(sub, stored);
    }
    this.#subs.add(sub);
    return {
      patterns,
      unsubscribe: () => {
        sub.active = false;
        this.#subs.delete(sub);
      },
    };
  }

  #offer(sub: Sub, stored: Stored): void {
    const i = stored.keys.findIndex((k) => sub.patterns.some((p) => matches(p, k)));
    if (i < 0) return;
    const { publication } = stored;
    const event: MqEvent = {
      type: 'event',
      topic: publication.topics[i]!,
      resourceType: publication.resourceType,
      event: publication.event,
      position: { stream: this.stream, seq: stored.seq },
      resource: publication.resource,
    };
    this.#deliver(sub, event);
  }

  #deliver(sub: Sub, message: MqMessage): void {
    if (!sub.active) return;
    try {
      sub.handler(message);
    } catch (error) {
      this.#onError(error);
    }
  }
}
