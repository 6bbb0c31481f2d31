// The master's reporters: one delivery loop per configured reporter (reporters/delivery.ts),
// woken by the bus when the outbox grows, and a timer that records missing workers,
// prunes what every reporter has handled, and pokes the loops in case an event was missed.
import type { EventBus, Subscription } from '../bus/bus.js';
import type { ResolvedWorker } from '../config/types.js';
import type { DataLayer } from '../data/index.js';
import type { ReportEventKind } from '../data/report-events.js';
import type { Master } from '../master.js';
import { SecretManager, type SecretProvider } from '../properties/secrets.js';
import { type ReporterBinding, ReporterRunner } from './delivery.js';
import { ReportReader } from './read.js';

export interface ReporterStatus {
  readonly name: string;
  /** Outbox events the reporter has not handled yet. */
  readonly backlog: number;
  readonly delivered: number;
  readonly failedAttempts: number;
  readonly lastError: string | null;
  readonly lastErrorAt: number | null;
  readonly lastDeliveredAt: number | null;
}

export interface ReportersServiceOptions {
  readonly data: DataLayer;
  readonly bus: EventBus;
  readonly buildbotURL: () => string;
  readonly workers: () => readonly ResolvedWorker[];
  /** Names of the workers connected now. */
  readonly connectedWorkers: () => ReadonlySet<string>;
  readonly workerId: (name: string) => number | undefined;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
  readonly secrets: () => readonly SecretProvider[];
  /** Given to reporters as they start (ReporterStartContext.master). */
  readonly master?: Master;
}

const MAX_TICK_MS = 5000;
const REMOVED_REPORTER_DAYS = 7;
/** Pruning takes the write lock; once a minute keeps it off the builds' way. */
const PRUNE_INTERVAL_MS = 60_000;
const MIN_TICK_MS = 250;
/** Bus topics announcing an outbox event of each kind. */
const WAKING_EVENTS: readonly (readonly [string, ReportEventKind])[] = [
  ['build.started.#', 'build-started'],
  ['build.finished.#', 'build-finished'],
  ['buildset.complete.#', 'buildset-finished'],
  ['worker.missing.#', 'worker-missing'],
];

export class ReportersService {
  readonly #runners = new Map<string, ReporterRunner>();
  readonly #reader: ReportReader;
  #subs: Subscription[] = [];
  #started = false;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> = Promise.resolve();
  #lastPrune = 0;

  constructor(private readonly options: ReportersServiceOptions) {
    this.#reader = new ReportReader(
      options.data,
      options.buildbotURL,
      (name) => options.workers().find((w) => w.name === name)?.notifyOnMissing ?? [],
    );
  }

  get runners(): readonly ReporterRunner[] {
    return [...this.#runners.values()];
  }

  /**
   * Runs a delivery loop for each of `bindings`, replacing the running ones (a reconfig makes
   * new reporter objects): each resumes from its cursor in the database, so nothing is lost
   * or skipped, and a report in flight is sent again with the same key.
   */
  async apply(bindings: readonly ReporterBinding[]): Promise<void> {
    for (const runner of this.#runners.values()) await runner.stop();
    this.#runners.clear();
    const startAfter = await this.options.data.reportEvents.lastId();
    for (const binding of bindings) {
      const name = binding.reporter.name;
      const runner = new ReporterRunner(binding, {
        events: this.options.data.reportEvents,
        reader: this.#reader,
        log: (level, message) => this.options.log(level, `reporter ${name}: ${message}`),
        getSecret: (secret) => new SecretManager(this.options.secrets()).get(secret),
        ...(this.options.master && { master: this.options.master }),
      });
      await runner.start(startAfter);
      this.#runners.set(name, runner);
    }
    this.#subscribe();
    this.#schedule();
  }

  start(): void {
    this.#started = true;
    this.#subscribe();
    this.#schedule();
  }

  /**
   * A reporter is woken only by the kinds of events it reports: the others wait in the
   * outbox and are read (and passed over) with the next page. A kind no reporter reports
   * gets no subscription at all, so with several masters its events are not even read from
   * the other masters for this (cluster/outbox-relay.ts).
   */
  #subscribe(): void {
    for (const s of this.#subs) s.unsubscribe();
    this.#subs = [];
    if (!this.#started) return;
    const runners = [...this.#runners.values()];
    for (const [pattern, kind] of WAKING_EVENTS) {
      if (!runners.some((r) => r.reports(kind))) continue;
      this.#subs.push(
        this.options.bus.subscribe(
          pattern,
          () => {
            for (const r of this.#runners.values()) if (r.reports(kind)) r.poke();
          },
          { name: `reporters:${pattern}`, maxQueue: 1 },
        ),
      );
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#started = false;
    for (const s of this.#subs) s.unsubscribe();
    await this.#ticking;
    for (const runner of this.#runners.values()) await runner.stop();
    this.#runners.clear();
  }

  /** Each configured reporter's backlog and last error (`lathe status`, the data API's `reporters`). */
  async status(): Promise<ReporterStatus[]> {
    const { reportEvents } = this.options.data;
    const out: ReporterStatus[] = [];
    for (const state of await reportEvents.states()) {
      if (!this.#runners.has(state.name)) continue;
      out.push({
        name: state.name,
        backlog: await reportEvents.countAfter(state.cursor),
        delivered: state.delivered,
        failedAttempts: state.failedAttempts,
        lastError: state.lastError,
        lastErrorAt: state.lastErrorAt,
        lastDeliveredAt: state.lastDeliveredAt,
      });
    }
    return out;
  }

  /** Missing workers are noticed within a quarter of the shortest missingTimeout. */
  #schedule(): void {
    clearInterval(this.#timer);
    const timeouts = this.options
      .workers()
      .flatMap((w) => (w.missingTimeout ? [w.missingTimeout * 250] : []));
    const ms = Math.max(MIN_TICK_MS, Math.min(MAX_TICK_MS, ...timeouts));
    this.#timer = setInterval(() => {
      this.#ticking = this.#tick().catch((err) => this.options.log('error', `reporters: ${String(err)}`));
    }, ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    const { reportEvents } = this.options.data;
    const connected = this.options.connectedWorkers();
    // Only workers that can be reported missing need their presence written down.
    const watched = this.options.workers().filter((w) => w.missingTimeout);
    await reportEvents.workersSeen(watched.filter((w) => connected.has(w.name)).map((w) => w.name));
    for (const w of watched) {
      if (!w.missingTimeout || connected.has(w.name)) continue;
      const { lastSeen, reported } = await reportEvents.lastSeen(w.name);
      const workerid = this.options.workerId(w.name);
      if (reported || workerid === undefined) continue;
      if (this.options.data.ctx.now() - lastSeen >= w.missingTimeout)
        await reportEvents.reportMissing({ name: w.name, workerid, lastSeen });
    }
    if (Date.now() - this.#lastPrune >= PRUNE_INTERVAL_MS) {
      this.#lastPrune = Date.now();
      await this.#prune();
    }
    for (const r of this.#runners.values()) r.poke();
  }

  /**
   * Drops outbox events every reporter has handled. A reporter taken out of the config keeps
   * its cursor, and the events after it for REMOVED_REPORTER_DAYS, so that putting it back
   * soon resumes where it stopped without the outbox growing forever.
   */
  async #prune(): Promise<void> {
    const { reportEvents } = this.options.data;
    const states = await reportEvents.states();
    const last = await reportEvents.lastId();
    const lowest = (cursors: number[]) => (cursors.length > 0 ? Math.min(...cursors) : last);
    const configured = lowest(states.filter((s) => this.#runners.has(s.name)).map((s) => s.cursor));
    await reportEvents.deleteThrough(Math.min(configured, lowest(states.map((s) => s.cursor))));
    const cutoff = this.options.data.ctx.now() - REMOVED_REPORTER_DAYS * 86_400;
    await reportEvents.deleteThrough(configured, cutoff);
  }
}
