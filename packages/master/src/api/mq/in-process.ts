// The in-process MessageQueue: one stream per master run, a bounded history for resume.
// With several masters (api/mq/outbox-bridge.ts) the stream is the cluster's, sequences
// are the outbox's ids, and a position older than the history in memory (another master
// saw it, or this one restarted since) is served from the database (`DurableHistory`).
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
  /** While missed messages are read: live ones wait here. */
  waiting: Stored[] | null;
  /** Messages up to this sequence were delivered (or are not wanted). */
  delivered: number;
}

/** Where publications older than the history in memory can still be read. */
export interface DurableHistory {
  /**
   * What was published with `after < seq < before`, in order; null when some of it is
   * gone (pruned) or too much to replay.
   */
  read(after: number, before: number): Promise<{ seq: number; publication: MqPublication }[] | null>;
  /** The newest sequence that exists anywhere: a position beyond it is from another database. */
  newest(): Promise<number>;
}

export interface InProcessQueueOptions {
  /** Messages kept for resuming subscribers; default 10,000. */
  readonly history?: number;
  /** Called when a handler throws; the default writes to stderr. */
  readonly onHandlerError?: (error: unknown) => void;
  /** The stream's name, when it outlives this queue (several masters); default random. */
  readonly stream?: string;
  /** Where the sequence starts (the last one published before this queue); default 0. */
  readonly startSeq?: number;
  readonly durable?: DurableHistory;
}

export class InProcessQueue implements MessageQueue {
  readonly stream: string;
  readonly #history: Stored[] = [];
  readonly #limit: number;
  readonly #subs = new Set<Sub>();
  readonly #onError: (error: unknown) => void;
  readonly #durable: DurableHistory | undefined;
  #seq: number;
  /** History before this sequence is gone (trimmed, or dropped by `gap`). */
  #firstKept: number;
  /** Messages were lost up to here (`gap`): not even the durable history has them. */
  #lostUpTo = 0;

  constructor(options: InProcessQueueOptions = {}) {
    this.stream = options.stream ?? randomBytes(6).toString('base64url');
    this.#seq = options.startSeq ?? 0;
    this.#firstKept = this.#seq + 1;
    this.#durable = options.durable;
    this.#limit = options.history ?? 10_000;
    this.#onError = options.onHandlerError ?? ((e) => console.error('message queue: handler failed:', e));
  }

  position(): MqPosition {
    return { stream: this.stream, seq: this.#seq };
  }

  /** `seq`: the publication's place in a sequence given from outside (increasing); default the next. */
  publish(publication: MqPublication, seq = this.#seq + 1): void {
    if (seq <= this.#seq) throw new Error(`message queue: sequence ${seq} after ${this.#seq}`);
    this.#seq = seq;
    const stored = this.#stored(seq, publication);
    this.#history.push(stored);
    if (this.#history.length > this.#limit) {
      this.#history.splice(0, this.#history.length - this.#limit);
      this.#firstKept = this.#history[0]!.seq;
    }
    for (const sub of this.#subs) this.#offer(sub, stored);
  }

  /**
   * Messages were lost before reaching the queue (the bus dropped some), those up to
   * `upTo` (default: the last published): no position before that can be resumed exactly,
   * and live subscribers are told to resync.
   */
  gap(reason: string, upTo = this.#seq): void {
    this.#history.length = 0;
    this.#seq = Math.max(this.#seq, upTo);
    this.#firstKept = this.#seq + 1;
    this.#lostUpTo = this.#seq;
    for (const sub of this.#subs) this.#resync(sub, reason);
  }

  async subscribe(
    patterns: readonly string[],
    handler: (message: MqMessage) => void,
    options: MqSubscribeOptions = {},
  ): Promise<MqSubscription> {
    if (patterns.length === 0) throw new Error('subscribe needs at least one pattern');
    const sub: Sub = {
      patterns: patterns.map(compilePattern),
      handler,
      active: true,
      waiting: null,
      delivered: this.#seq,
    };
    const subscription: MqSubscription = {
      patterns,
      unsubscribe: () => {
        sub.active = false;
        this.#subs.delete(sub);
      },
    };
    const { after } = options;
    const resync = (reason: string) => this.#resync(sub, reason);
    if (after && after.stream !== this.stream) resync('the master restarted');
    else if (after && after.seq < this.#lostUpTo) resync(`messages up to ${this.#lostUpTo} were lost`);
    else if (after && this.#durable && (after.seq + 1 < this.#firstKept || after.seq > this.#seq)) {
      await this.#resumeFromDurable(sub, after.seq, this.#durable);
      return subscription;
    } else if (after && after.seq > this.#seq) resync('position from the future');
    else if (after && after.seq + 1 < this.#firstKept)
      resync(`history before ${this.#firstKept} is no longer kept`);
    else if (after) {
      sub.delivered = after.seq;
      for (const stored of this.#history) this.#offer(sub, stored);
    }
    this.#subs.add(sub);
    return subscription;
  }

  /**
   * Replays from the database what is older than the history in memory, then that history,
   * then what was published meanwhile; or waits for a position another master reached first.
   */
  async #resumeFromDurable(sub: Sub, after: number, durable: DurableHistory): Promise<void> {
    const firstKept = this.#firstKept;
    const kept = this.#history.slice();
    const waiting: Stored[] = [];
    sub.waiting = waiting;
    sub.delivered = after;
    this.#subs.add(sub);
    // A resync meanwhile (`gap`) replaced `waiting`: what was read is then not wanted.
    const replay = (stored: Stored) => {
      if (sub.waiting !== waiting) return;
      sub.waiting = null;
      this.#offer(sub, stored);
      sub.waiting = waiting;
    };
    try {
      if (after > this.#seq) {
        // Another master has read further: what comes next here is what it saw after.
        if (after > (await durable.newest())) this.#resync(sub, 'position from the future');
      } else {
        const older = await durable.read(after, firstKept);
        if (!older) this.#resync(sub, `history after ${after} is no longer kept`);
        else {
          for (const { seq, publication } of older) replay(this.#stored(seq, publication));
          for (const stored of kept) replay(stored);
        }
      }
    } catch (err) {
      this.#resync(sub, `history could not be read: ${String(err)}`);
    } finally {
      const rest = sub.waiting ?? [];
      sub.waiting = null;
      for (const stored of rest) this.#offer(sub, stored);
    }
  }

  /** The subscriber must read again; it continues from now, without what was waiting. */
  #resync(sub: Sub, reason: string): void {
    if (sub.waiting) sub.waiting = [];
    sub.delivered = this.#seq;
    this.#deliver(sub, { type: 'resync', reason, position: this.position() });
  }

  #stored(seq: number, publication: MqPublication): Stored {
    return { seq, keys: publication.topics.map((t) => t.split('.')), publication };
  }

  #offer(sub: Sub, stored: Stored): void {
    if (sub.waiting) {
      sub.waiting.push(stored);
      return;
    }
    if (stored.seq <= sub.delivered) return;
    sub.delivered = stored.seq;
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
