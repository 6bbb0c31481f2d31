// The master's typed event bus. Publishing never waits for consumers: each subscription
// has its own bounded queue and runs its handler one message at a time, so a slow consumer
// (a reporter talking to a remote service, a UI socket) delays only itself, and what it
// cannot keep up with is dropped according to its overflow policy instead of growing
// memory or blocking the build that publishes.
import {
  type BusEvents,
  type BusMessage,
  type EventKind,
  KEY_FIELDS,
  type KindsMatching,
  type MessageOf,
} from './events.js';
import { type CompiledPattern, compilePattern, matches, mayMatchKind } from './pattern.js';

export type Overflow = 'drop-oldest' | 'drop-newest' | 'unsubscribe';

export interface SubscribeOptions {
  /** Messages that may wait for this consumer; default 10,000. */
  readonly maxQueue?: number;
  /** What happens to a message that finds the queue full; default 'drop-oldest'. */
  readonly overflow?: Overflow;
  /** A name for error reports. */
  readonly name?: string;
  /** Only this master's own events, not those relayed from other masters (cluster/). */
  readonly localOnly?: boolean;
}

export interface Subscription {
  readonly pattern: string;
  readonly name: string;
  /** Messages dropped because the queue was full. */
  readonly dropped: number;
  readonly queued: number;
  readonly active: boolean;
  unsubscribe(): void;
}

export interface BusErrorReport {
  readonly subscription: string;
  readonly message: BusMessage;
  readonly error: unknown;
}

export interface EventBusOptions {
  /** Called when a handler throws or rejects; the default writes to stderr. */
  readonly onHandlerError?: (report: BusErrorReport) => void;
  /** Called once when a subscription with overflow 'unsubscribe' is cut off. */
  readonly onOverflow?: (subscription: Subscription) => void;
}

type Handler = (message: BusMessage) => void | Promise<void>;

class Sub implements Subscription {
  readonly compiled: CompiledPattern;
  readonly #queue: BusMessage[] = [];
  #head = 0;
  #running = false;
  dropped = 0;
  active = true;

  constructor(
    readonly pattern: string,
    readonly name: string,
    readonly handler: Handler,
    readonly maxQueue: number,
    readonly overflow: Overflow,
    readonly bus: EventBus,
    readonly localOnly: boolean,
  ) {
    this.compiled = compilePattern(pattern);
  }

  get queued(): number {
    return this.#queue.length - this.#head;
  }

  unsubscribe(): void {
    if (!this.active) return;
    this.active = false;
    this.#queue.length = 0;
    this.#head = 0;
    this.bus.remove(this);
  }

  offer(message: BusMessage): void {
    if (this.queued >= this.maxQueue) {
      this.dropped++;
      if (this.overflow === 'drop-newest') return;
      if (this.overflow === 'unsubscribe') {
        this.unsubscribe();
        this.bus.overflowed(this);
        return;
      }
      this.#head++;
    }
    this.#queue.push(message);
    if (!this.#running) {
      // Start on a microtask: a handler must never run inside publish(), where it could
      // re-enter the publisher or throw into it.
      this.#running = true;
      queueMicrotask(() => void this.#drain());
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.active && this.#head < this.#queue.length) {
        const message = this.#queue[this.#head]!;
        this.#head++;
        // Compact now and then so the array does not keep consumed messages alive.
        if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue.splice(0, this.#head);
          this.#head = 0;
        }
        try {
          await this.handler(message);
        } catch (error) {
          this.bus.handlerFailed({ subscription: this.name, message, error });
        }
      }
    } finally {
      this.#running = false;
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0;
        this.#head = 0;
      }
      this.bus.settledOne();
    }
  }

  get idle(): boolean {
    return !this.#running && this.queued === 0;
  }
}

export class EventBus {
  readonly #subs = new Set<Sub>();
  readonly #options: EventBusOptions;
  #idleWaiters: (() => void)[] = [];

  constructor(options: EventBusOptions = {}) {
    this.#options = options;
  }

  /**
   * Delivers `payload` to every matching subscription's queue and returns at once.
   * Handlers run later, never inside this call.
   */
  publish<K extends EventKind>(kind: K, payload: BusEvents[K]): void {
    this.#deliver({ kind, key: routingKey(kind, payload), payload });
  }

  /**
   * Delivers an event another master published (read from the shared database by
   * cluster/outbox-relay.ts) to every matching subscription that is not `localOnly`.
   */
  publishRemote<K extends EventKind>(kind: K, payload: BusEvents[K], origin: number): void {
    this.#deliver({ kind, key: routingKey(kind, payload), payload, origin });
  }

  #deliver(message: BusMessage): void {
    const remote = message.origin !== undefined;
    for (const sub of this.#subs) {
      if (remote && sub.localOnly) continue;
      if (matches(sub.compiled, message.key)) sub.offer(message);
    }
  }

  /** Whether a subscription would get some event of `kind` published by another master. */
  wantsRemote(kind: string): boolean {
    const segments = kind.split('.');
    for (const sub of this.#subs) if (!sub.localOnly && mayMatchKind(sub.compiled, segments)) return true;
    return false;
  }

  subscribe<P extends string>(
    pattern: P,
    handler: (message: MessageOf<KindsMatching<P>>) => void | Promise<void>,
    options: SubscribeOptions = {},
  ): Subscription {
    const sub = new Sub(
      pattern,
      options.name ?? pattern,
      handler as Handler,
      options.maxQueue ?? 10_000,
      options.overflow ?? 'drop-oldest',
      this,
      options.localOnly ?? false,
    );
    this.#subs.add(sub);
    return sub;
  }

  /** Resolves once every queue is empty and no handler is running (tests, shutdown). */
  idle(): Promise<void> {
    if (this.#allIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  get subscriptionCount(): number {
    return this.#subs.size;
  }

  /** @internal */
  remove(sub: Sub): void {
    this.#subs.delete(sub);
    this.settledOne();
  }

  /** @internal */
  overflowed(sub: Sub): void {
    this.#options.onOverflow?.(sub);
  }

  /** @internal */
  handlerFailed(report: BusErrorReport): void {
    if (this.#options.onHandlerError) this.#options.onHandlerError(report);
    else
      console.error(
        `event bus: handler ${report.subscription} failed on ${report.message.kind}:`,
        report.error,
      );
  }

  /** @internal */
  settledOne(): void {
    if (this.#idleWaiters.length === 0 || !this.#allIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #allIdle(): boolean {
    for (const sub of this.#subs) if (!sub.idle) return false;
    return true;
  }
}

export function routingKey<K extends EventKind>(kind: K, payload: BusEvents[K]): string[] {
  const key = kind.split('.');
  for (const field of KEY_FIELDS[kind]) key.push(String(payload[field]));
  return key;
}
