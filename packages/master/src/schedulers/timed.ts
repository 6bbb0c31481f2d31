// What the periodic and nightly schedulers share: a timer for the next run, the time of
// the last run and (with onlyIfChanged) the changes seen since, all kept in the database
// so that a restart neither skips a run nor repeats one. A run missed while the master
// was down happens once, at start. The last run is recorded in the transaction that adds
// its buildset.
import type { ChangeRow } from '../data/changes.js';
import type { ReconfigurableService } from '../service.js';
import { addChangesBuildset } from './add-buildset.js';
import { changeMatches } from './change-filter.js';
import type { ClockTimer } from './clock.js';
import type { Scheduler, SchedulerContext, SchedulerStatusInfo } from './scheduler.js';
import type { ResolvedTimedSchedulerConfig } from './timed-config.js';

const LAST_RUN = 'lastRun';
const CHANGES = 'changes';
/** After a failed run (the database refused the buildset), try again this much later. */
const RETRY_MS = 60_000;

interface SeenChange {
  readonly id: number;
  readonly important: boolean;
}

export abstract class TimedScheduler<C extends ResolvedTimedSchedulerConfig>
  implements Scheduler, ReconfigurableService<C>
{
  #config: C;
  /** Epoch milliseconds of the last run, null before the first. */
  #lastRun: number | null = null;
  #nextRun: number | null = null;
  #timer: ClockTimer | null = null;
  #changes: SeenChange[] = [];
  #unsubscribe: (() => void) | null = null;
  #running = false;
  /** State writes and runs, one at a time and in order; stop() waits for them. */
  #work: Promise<void> = Promise.resolve();

  constructor(
    config: C,
    protected readonly ctx: SchedulerContext,
  ) {
    this.#config = config;
  }

  /** When the run after `lastRun` (or the first, when null) is due, epoch ms; null for never. */
  protected abstract nextRunAfter(lastRun: number | null, now: number): number | null;

  get name(): string {
    return this.#config.name;
  }

  get config(): C {
    return this.#config;
  }

  status(): SchedulerStatusInfo {
    const toSeconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));
    return {
      kind: this.#config.kind,
      nextRunAt: toSeconds(this.#nextRun),
      lastRunAt: toSeconds(this.#lastRun),
    };
  }

  async start(): Promise<void> {
    const state = await this.ctx.data.schedulerState.list(this.name);
    const lastRun = state.get(LAST_RUN);
    this.#lastRun = typeof lastRun === 'number' ? lastRun : null;
    const changes = state.get(CHANGES);
    this.#changes = Array.isArray(changes) ? (changes as SeenChange[]) : [];
    this.#running = true;
    if (this.#config.onlyIfChanged) this.#watchChanges();
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = null;
    this.#nextRun = null;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    await this.#work;
  }

  /** Keeps the last run and the changes seen; the next run follows the new timing. */
  reconfigure(config: C): Promise<void> {
    return this.#serial(async () => {
      this.#config = config;
      if (config.onlyIfChanged && !this.#unsubscribe) this.#watchChanges();
      if (!config.onlyIfChanged && this.#unsubscribe) {
        this.#unsubscribe();
        this.#unsubscribe = null;
        this.#changes = [];
        await this.ctx.data.schedulerState.delete(this.name, CHANGES);
      }
      this.#schedule();
    });
  }

  #watchChanges(): void {
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

  /** With onlyIfChanged, remembers a matching change (and whether it is important) for the next run. */
  async gotChange(change: ChangeRow): Promise<void> {
    if (!this.#config.onlyIfChanged || !changeMatches(this.#config.filter, change)) return;
    const important = this.#config.fileIsImportant ? this.#config.fileIsImportant(change) : true;
    await this.#serial(async () => {
      if (this.#changes.some((c) => c.id === change.id)) return; // replayed after a crash
      this.#changes = [...this.#changes, { id: change.id, important }];
      await this.ctx.data.schedulerState.set(this.name, CHANGES, this.#changes);
    });
  }

  #schedule(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#nextRun = null;
    if (!this.#running) return;
    const now = this.ctx.clock.now();
    const due = this.nextRunAfter(this.#lastRun, now);
    if (due === null) {
      this.ctx.statusChanged?.();
      return;
    }
    this.#arm(Math.max(due, now));
  }

  #arm(at: number): void {
    this.#nextRun = at;
    this.ctx.statusChanged?.();
    this.#timer = this.ctx.clock.setTimer(() => {
      this.#timer = null;
      this.#serial(() => this.#run(at)).catch((err: Error) => {
        this.ctx.log.warn(`scheduler ${this.name}: run failed, retrying in a minute: ${err.message}`);
        if (this.#running) this.#arm(this.ctx.clock.now() + RETRY_MS);
      });
    }, at - this.ctx.clock.now());
  }

  async #run(at: number): Promise<void> {
    if (!this.#running) return;
    const config = this.#config;
    const state = this.ctx.data.schedulerState;
    const seen = this.#changes;
    if (config.onlyIfChanged && !seen.some((c) => c.important)) {
      await state.set(this.name, LAST_RUN, at);
      this.ctx.log.info(`scheduler ${this.name}: no important changes since the last run, not building`);
    } else {
      const rows = [];
      for (const c of seen) {
        if (!c.important && config.onlyImportant) continue;
        const row = await this.ctx.data.changes.get(c.id);
        if (row) rows.push(row);
      }
      await addChangesBuildset(this.ctx, config, rows, async (db) => {
        await state.set(this.name, LAST_RUN, at, db);
        await state.delete(this.name, CHANGES, db);
      });
    }
    this.#lastRun = at;
    this.#changes = [];
    this.#schedule();
  }

  #serial(job: () => Promise<void>): Promise<void> {
    const run = this.#work.then(job);
    this.#work = run.catch(() => {});
    return run;
  }
}
