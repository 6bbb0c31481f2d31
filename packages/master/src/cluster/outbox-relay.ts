// The cross-master message queue. Every event this master publishes on its bus is appended
// to the shared outbox table (data/outbox.ts) in small batches, in publish order; the
// events other masters appended are read back in sequence and published on this master's
// bus as remote events (`EventBus.publishRemote`), where the schedulers and the
// distributor see them as they see local ones. Followers (the data API's message queue,
// api/mq/outbox-bridge.ts) get every master's events, this one's too, in the global
// sequence: the outbox's ids.
//
// When to read is the wake-up's business (`OutboxWakeup`): on SQLite a short poll; on
// PostgreSQL LISTEN/NOTIFY (postgres-wakeup.ts).
import type { EventBus, Subscription } from '../bus/bus.js';
import { type BusEvents, type BusMessage, type EventKind, KEY_FIELDS } from '../bus/events.js';
import type { DataLayer } from '../data/index.js';
import type { OutboxEvent, OutboxRow } from '../data/outbox.js';

/**
 * Called when other masters may have appended events: `kinds`, when the wake-up knows them,
 * are the kinds appended; without them anything may have been.
 */
export type Wake = (kinds?: readonly string[]) => void;

/** Tells the relay when other masters may have appended events. */
export interface OutboxWakeup {
  /** Starts calling `wake`; returns the function that stops it. */
  listen(wake: Wake): () => void;
}

/** Reads every `intervalMs`: what SQLite, which has no notifications between processes, needs. */
export class PollingWakeup implements OutboxWakeup {
  constructor(private readonly intervalMs: number) {}

  listen(wake: Wake): () => void {
    const timer = setInterval(() => wake(), this.intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}

/** Gets the outbox's events, every master's, in id order. */
export interface OutboxFollower {
  event(row: OutboxRow): void;
  /** Some of this master's events never reached the outbox (its bus dropped them under load). */
  lost(reason: string): void;
}

/** Events with no meaning on another master (its own config) or too frequent to be worth it. */
const NOT_RELAYED = new Set<EventKind>(['config.reconfigured', 'build.eta']);

/** Events written per batch; more wait for the next one. */
const BATCH = 1000;

export interface OutboxRelayOptions {
  readonly data: DataLayer;
  readonly bus: EventBus;
  readonly masterid: number;
  readonly wakeup: OutboxWakeup;
  readonly onError: (err: unknown, context: string) => void;
  /**
   * How long local events gather before they are written; default 0: the events of one
   * tick go together, and those published while a write runs go in the next one, so a busy
   * master writes in batches without an idle one waiting (the delay is every cross-master
   * hop's: a request added on one master and built on another).
   */
  readonly flushDelayMs?: number;
}

export class OutboxRelay {
  #sub: Subscription | null = null;
  #stopListening: (() => void) | null = null;
  #pending: OutboxEvent[] = [];
  #flushTimer: NodeJS.Timeout | null = null;
  #writing: Promise<void> = Promise.resolve();
  #reading: Promise<void> | null = null;
  /** Woken while a read ran: what was committed since may not have been in it. */
  #readAgain = false;
  #lastSeen = 0;
  #received = 0;
  #dropped = 0;
  readonly #followers = new Set<OutboxFollower>();

  constructor(private readonly o: OutboxRelayOptions) {}

  /** Events other masters published that this one has delivered on its bus. */
  get received(): number {
    return this.#received;
  }

  /** The id of the last event read: a follower added now gets those after it. */
  get lastSeen(): number {
    return this.#lastSeen;
  }

  /** Adds a follower; returns the function that removes it. */
  follow(follower: OutboxFollower): () => void {
    this.#followers.add(follower);
    return () => this.#followers.delete(follower);
  }

  /** From now on: what was appended before this master started is history, not news. */
  async start(): Promise<void> {
    this.#lastSeen = await this.o.data.outbox.lastId();
    this.#sub = this.o.bus.subscribe('#', (m: BusMessage) => this.#queue(m), {
      name: 'cluster outbox',
      localOnly: true,
      maxQueue: 100_000,
    });
    this.#stopListening = this.o.wakeup.listen((kinds) => {
      if (!kinds || this.#wanted(kinds)) void this.poll();
    });
  }

  /**
   * Whether events of these kinds are wanted here now. Those that are not wait in the outbox
   * for the next read (the next wanted event's, or the wake-up's safety poll): a busy
   * cluster's every step and log event would otherwise wake every master, each competing
   * for the cores with the masters running the builds.
   */
  #wanted(kinds: readonly string[]): boolean {
    return this.#followers.size > 0 || kinds.some((k) => this.o.bus.wantsRemote(k));
  }

  /** Reads and delivers what other masters appended since the last read. */
  poll(): Promise<void> {
    if (this.#reading) {
      this.#readAgain = true;
      return this.#reading;
    }
    this.#reading = (async () => {
      do {
        this.#readAgain = false;
        await this.#read();
      } while (this.#readAgain && this.#sub);
    })().finally(() => {
      this.#reading = null;
    });
    return this.#reading;
  }

  /** Writes what is still pending, then stops reading and writing. */
  async stop(): Promise<void> {
    this.#stopListening?.();
    this.#stopListening = null;
    this.#sub?.unsubscribe();
    this.#sub = null;
    await this.flush();
    await this.#reading;
  }

  /** Writes the events gathered so far (and waits for earlier writes). */
  flush(): Promise<void> {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    const run = this.#writing.then(() => this.#write());
    this.#writing = run.catch((err: unknown) => this.o.onError(err, 'writing events for other masters'));
    return this.#writing;
  }

  #queue(m: BusMessage): void {
    const dropped = this.#sub?.dropped ?? 0;
    if (dropped !== this.#dropped) {
      this.#dropped = dropped;
      for (const f of this.#followers) f.lost(`${dropped} events of this master were dropped under load`);
    }
    if (NOT_RELAYED.has(m.kind)) return;
    this.#pending.push({ kind: m.kind, payload: m.payload });
    this.#flushTimer ??= setTimeout(() => void this.flush(), this.o.flushDelayMs ?? 0);
  }

  async #write(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, BATCH);
      await this.o.data.outbox.append(this.o.masterid, batch);
    }
    // The followers get this master's events from the outbox too, in their place.
    if (this.#followers.size > 0) void this.poll();
  }

  async #read(): Promise<void> {
    try {
      for (;;) {
        // Without followers this master's own events need not be read back.
        const { rows, lastId } = await this.o.data.outbox.after(
          this.#lastSeen,
          BATCH,
          this.#followers.size > 0 ? undefined : this.o.masterid,
        );
        if (lastId === this.#lastSeen) return;
        this.#lastSeen = lastId;
        for (const row of rows) {
          // A newer master may publish kinds this one does not know: skip them.
          if (!Object.hasOwn(KEY_FIELDS, row.kind)) continue;
          for (const f of this.#followers) f.event(row);
          if (row.masterid === this.o.masterid) continue;
          const kind = row.kind as EventKind;
          this.o.bus.publishRemote(kind, row.payload as BusEvents[typeof kind], row.masterid);
          this.#received++;
        }
      }
    } catch (err) {
      this.o.onError(err, 'reading events of other masters');
    }
  }
}
