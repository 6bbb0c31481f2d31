// Buildbot's change-driven schedulers. A matching change is classified important or not
// (fileIsImportant). Without a treeStableTimer each important change gets its own buildset
// at once. With one, an important change (re)starts the timer and an unimportant one
// restarts it only if it is running; when it fires, all changes seen since the last
// buildset go into one, with the newest change's source stamp per codebase.
// SingleBranchScheduler keeps one timer; AnyBranchScheduler one per branch (and
// codebase, project, repository), so branches do not hold each other back.
// A running timer (its changes, classified, and its deadline) is kept in the database:
// after a restart it fires at its deadline, or at once when that has passed, and its
// state is deleted in the transaction that adds the buildset, so it fires only once.
import type { Kysely } from 'kysely';
import type { ChangeRow } from '../data/changes.js';
import type { Database } from '../db/schema.js';
import type { ReconfigurableService } from '../service.js';
import { addChangesBuildset } from './add-buildset.js';
import { changeMatches } from './change-filter.js';
import type { ClockTimer } from './clock.js';
import type { ResolvedChangeSchedulerConfig } from './config.js';
import { cancelOldBuilds } from './old-build-canceller.js';
import type { Scheduler, SchedulerContext, SchedulerStatusInfo } from './scheduler.js';

interface Pending {
  readonly changes: { readonly change: ChangeRow; readonly important: boolean }[];
  timer: ClockTimer | null;
  /** Epoch milliseconds when the tree counts as stable. */
  deadline: number;
}

/** A pending timer as stored: change ids with their importance, and the deadline. */
interface StoredPending {
  readonly deadline: number;
  readonly changes: readonly (readonly [id: number, important: boolean])[];
}

const TIMER_PREFIX = 'treeStable:';

/** How many change ids a scheduler remembers having looked at. */
const SEEN_CHANGES = 10_000;

export class ChangeScheduler implements Scheduler, ReconfigurableService<ResolvedChangeSchedulerConfig> {
  #config: ResolvedChangeSchedulerConfig;
  readonly #pending = new Map<string, Pending>();
  #unsubscribe: (() => void) | null = null;
  /**
   * Buildsets being added and timer state being written, in order (a firing timer's state
   * is deleted before a later change stores the next one); stop() waits for them so none
   * is cut off by the database closing.
   */
  #work: Promise<void> = Promise.resolve();
  /**
   * Changes recently looked at. With several masters a change can be offered twice: replayed
   * when this master takes the scheduler over, then delivered live from another master.
   */
  readonly #seen = new Set<number>();

  constructor(
    config: ResolvedChangeSchedulerConfig,
    private readonly ctx: SchedulerContext,
  ) {
    this.#config = config;
  }

  get name(): string {
    return this.#config.name;
  }

  get config(): ResolvedChangeSchedulerConfig {
    return this.#config;
  }

  /** Takes effect from the next change; changes waiting for a stable tree stay waiting. */
  async reconfigure(config: ResolvedChangeSchedulerConfig): Promise<void> {
    this.#config = config;
  }

  status(): SchedulerStatusInfo {
    const deadlines = [...this.#pending.values()].filter((p) => p.timer).map((p) => p.deadline);
    const next = deadlines.length > 0 ? Math.floor(Math.min(...deadlines) / 1000) : null;
    return { kind: this.#config.kind, nextRunAt: next, lastRunAt: null };
  }

  async start(): Promise<void> {
    await this.#restoreTimers();
    const sub = this.ctx.bus.subscribe(
      'change.new',
      async (m) => {
        const change = await this.ctx.data.changes.get(m.payload.changeid);
        if (change) await this.gotChange(change);
      },
      { name: `scheduler:${this.name}` },
    );
    this.#unsubscribe = () => sub.unsubscribe();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    for (const p of this.#pending.values()) p.timer?.cancel();
    this.#pending.clear();
    await this.#work;
  }

  /** Looks at one stored change; resolves once any buildset it causes at once is added. */
  async gotChange(change: ChangeRow): Promise<void> {
    if (this.#seen.has(change.id)) return;
    this.#seen.add(change.id);
    if (this.#seen.size > SEEN_CHANGES) this.#seen.delete(this.#seen.values().next().value!);
    const { config } = this;
    if (!changeMatches(config.filter, change)) return;
    const important = config.fileIsImportant ? config.fileIsImportant(change) : true;
    if (config.treeStableTimer === null) {
      if (important) await this.#enqueue([change]);
      return;
    }
    const key = this.#timerKey(change);
    let pending = this.#pending.get(key);
    // A change replayed after a crash may already wait in a restored timer.
    if (pending?.changes.some((c) => c.change.id === change.id)) return;
    if (!important && !pending?.timer) return;
    if (!pending) {
      pending = { changes: [], timer: null, deadline: 0 };
      this.#pending.set(key, pending);
    }
    pending.changes.push({ change, important });
    this.#arm(key, pending, this.ctx.clock.now() + config.treeStableTimer * 1000);
    const stored: StoredPending = {
      deadline: pending.deadline,
      changes: pending.changes.map((c) => [c.change.id, c.important] as const),
    };
    await this.#serial(() => this.ctx.data.schedulerState.set(this.name, TIMER_PREFIX + key, stored));
  }

  #arm(key: string, pending: Pending, deadline: number): void {
    pending.timer?.cancel();
    pending.deadline = deadline;
    pending.timer = this.ctx.clock.setTimer(
      () => this.#treeStable(key, pending),
      deadline - this.ctx.clock.now(),
    );
    this.ctx.statusChanged?.();
  }

  /** Picks up the timers a previous run of the master (or of this scheduler) left running. */
  async #restoreTimers(): Promise<void> {
    const stored = await this.ctx.data.schedulerState.list(this.name, TIMER_PREFIX);
    for (const [stateKey, value] of stored) {
      const { deadline, changes } = value as StoredPending;
      const pending: Pending = { changes: [], timer: null, deadline };
      for (const [id, important] of changes) {
        const change = await this.ctx.data.changes.get(id);
        if (change) pending.changes.push({ change, important });
      }
      const key = stateKey.slice(TIMER_PREFIX.length);
      this.#pending.set(key, pending);
      this.#arm(key, pending, deadline);
    }
  }

  #timerKey(change: ChangeRow): string {
    if (this.config.kind === 'SingleBranchScheduler') return '';
    return JSON.stringify([change.codebase, change.project, change.repository, change.branch]);
  }

  #treeStable(key: string, pending: Pending): void {
    pending.timer = null;
    if (this.#pending.get(key) === pending) this.#pending.delete(key);
    this.ctx.statusChanged?.();
    const forget = (db?: Kysely<Database>) =>
      this.ctx.data.schedulerState.delete(this.name, TIMER_PREFIX + key, db);
    const changes = pending.changes
      .filter((c) => c.important || !this.config.onlyImportant)
      .map((c) => c.change);
    const fire = pending.changes.some((c) => c.important)
      ? () => this.#addBuildset(changes, forget)
      : () => forget();
    this.#serial(fire).catch((err) =>
      this.ctx.log.warn(`scheduler ${this.name}: adding a buildset failed: ${(err as Error).message}`),
    );
  }

  #enqueue(changes: readonly ChangeRow[]): Promise<void> {
    return this.#serial(() => this.#addBuildset(changes));
  }

  #serial(job: () => Promise<void>): Promise<void> {
    const run = this.#work.then(job);
    this.#work = run.catch(() => {});
    return run;
  }

  async #addBuildset(
    changes: readonly ChangeRow[],
    stateWrites?: (db: Kysely<Database>) => Promise<void>,
  ): Promise<void> {
    const added = await addChangesBuildset(this.ctx, this.config, changes, stateWrites);
    if (added && this.config.cancelOldBuilds)
      await cancelOldBuilds(this.ctx, this.name, added, added.sourcestampids);
  }
}
