// Buildbot's change-driven schedulers. A matching change is classified important or not
// (fileIsImportant). Without a treeStableTimer each important change gets its own buildset
// at once. With one, an important change (re)starts the timer and an unimportant one
// restarts it only if it is running; when it fires, all changes seen since the last
// buildset go into one, with the newest change's source stamp per codebase.
// SingleBranchScheduler keeps one timer; AnyBranchScheduler one per branch (and
// codebase, project, repository), so branches do not hold each other back.
import type { ChangeRow } from '../data/changes.js';
import type { ReconfigurableService } from '../service.js';
import { addSchedulerBuildset } from './buildset.js';
import { changeMatches } from './change-filter.js';
import type { ResolvedChangeSchedulerConfig } from './config.js';
import { cancelOldBuilds } from './old-build-canceller.js';
import type { Scheduler, SchedulerContext } from './scheduler.js';

interface Pending {
  readonly changes: { readonly change: ChangeRow; readonly important: boolean }[];
  timer: NodeJS.Timeout | null;
}

export class ChangeScheduler implements Scheduler, ReconfigurableService<ResolvedChangeSchedulerConfig> {
  #config: ResolvedChangeSchedulerConfig;
  readonly #pending = new Map<string, Pending>();
  #unsubscribe: (() => void) | null = null;
  /** Buildsets being added; stop() waits for them so none is cut off by the database closing. */
  #work: Promise<void> = Promise.resolve();

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

  async start(): Promise<void> {
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
    for (const p of this.#pending.values()) if (p.timer) clearTimeout(p.timer);
    this.#pending.clear();
    await this.#work;
  }

  /** Looks at one stored change; resolves once any buildset it causes at once is added. */
  async gotChange(change: ChangeRow): Promise<void> {
    const { config } = this;
    if (!changeMatches(config.filter, change)) return;
    const important = config.fileIsImportant ? config.fileIsImportant(change) : true;
    if (config.treeStableTimer === null) {
      if (important) await this.#enqueue([change]);
      return;
    }
    const key = this.#timerKey(change);
    let pending = this.#pending.get(key);
    if (!important && !pending?.timer) return;
    if (!pending) {
      pending = { changes: [], timer: null };
      this.#pending.set(key, pending);
    }
    pending.changes.push({ change, important });
    if (pending.timer) clearTimeout(pending.timer);
    const entry = pending;
    pending.timer = setTimeout(() => this.#treeStable(key, entry), config.treeStableTimer * 1000);
  }

  #timerKey(change: ChangeRow): string {
    if (this.config.kind === 'SingleBranchScheduler') return '';
    return JSON.stringify([change.codebase, change.project, change.repository, change.branch]);
  }

  #treeStable(key: string, pending: Pending): void {
    if (this.#pending.get(key) === pending) this.#pending.delete(key);
    if (!pending.changes.some((c) => c.important)) return;
    const changes = pending.changes
      .filter((c) => c.important || !this.config.onlyImportant)
      .map((c) => c.change);
    this.#enqueue(changes).catch((err) =>
      this.ctx.log.warn(`scheduler ${this.name}: adding a buildset failed: ${(err as Error).message}`),
    );
  }

  #enqueue(changes: readonly ChangeRow[]): Promise<void> {
    const run = this.#work.then(() => this.#addBuildset(changes));
    this.#work = run.catch(() => {});
    return run;
  }

  async #addBuildset(changes: readonly ChangeRow[]): Promise<void> {
    const { config, ctx } = this;
    // The newest change of each codebase says what to build.
    const latest = new Map<string, ChangeRow>();
    for (const c of [...changes].sort((a, b) => a.id - b.id)) latest.set(c.codebase, c);
    const sourcestampids = [...latest.values()].map((c) => c.sourcestampid);
    const added = await addSchedulerBuildset(ctx, {
      scheduler: this.name,
      builderNames: config.builderNames,
      sourcestampids,
      reason: config.reason,
      priority: config.priority,
      changeids: changes.map((c) => c.id),
      schedulerProperties: config.properties,
    });
    if (!added) return;
    ctx.log.info(
      `scheduler ${this.name}: buildset ${added.buildsetid} for change(s) ${changes.map((c) => c.id).join(', ')}`,
    );
    if (config.cancelOldBuilds) await cancelOldBuilds(ctx, this.name, added, sourcestampids);
  }
}
