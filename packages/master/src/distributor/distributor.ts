// Hands pending build requests to idle workers. One pass: order the builders that have
// both pending requests and an available worker; then, in rounds, give each builder at most
// one build per round (so one busy builder cannot take every shared worker), choosing its
// best request (priority, then age), collapsing compatible requests into it, picking a
// worker (canStartBuild, nextWorker, else the fairest), claiming atomically and starting.
// Passes never overlap; a trigger during a pass schedules one more pass afterwards.
import type { EventBus, Subscription } from '../bus/bus.js';
import type { PendingRequest } from '../data/buildrequests.js';
import { AlreadyClaimedError } from '../data/errors.js';
import type { DataLayer } from '../data/index.js';
import { SKIPPED } from '../results.js';
import { collapseGroup, fairestWorker, orderBuilders } from './choose.js';
import type { Assignment, BuildStarter, DistributorBuilder, WorkerSlot } from './slots.js';

export interface DistributorOptions {
  readonly data: DataLayer;
  readonly masterid: number;
  readonly starter: BuildStarter;
  readonly builders: () => Iterable<DistributorBuilder>;
  readonly worker: (name: string) => WorkerSlot | undefined;
  /** Pending requests read per builder per pass; default 100. */
  readonly pageSize?: number;
  /**
   * Called after each pass for each builder none of whose workers is free (requests may be
   * waiting for it): where latent workers get started.
   */
  readonly noWorkerFree?: (builder: DistributorBuilder) => Promise<void>;
  /** Called with problems that do not stop distribution (a failed start, a throwing callback). */
  readonly onError?: (err: unknown, context: string) => void;
}

export class Distributor {
  readonly #o: DistributorOptions;
  #running: Promise<void> | null = null;
  #again = false;
  #subs: Subscription[] = [];
  #stopped = false;
  #selfRelease = false;

  constructor(options: DistributorOptions) {
    this.#o = options;
  }

  /** Re-runs distribution whenever something may have made work possible. */
  listen(bus: EventBus): void {
    const poke = () => this.trigger();
    for (const pattern of ['buildrequest.new', 'build.finished', 'worker.connected', 'builder.configured']) {
      this.#subs.push(bus.subscribe(pattern, poke, { name: `distributor:${pattern}`, maxQueue: 1 }));
    }
    // Another master gave a request back (its build ends RETRY). Not our own: a request we
    // hand back after a failed start must not re-trigger us.
    const released = bus.subscribe(
      'buildrequest.unclaimed',
      (m) => (m.origin === undefined ? undefined : poke()),
      {
        name: 'distributor:buildrequest.unclaimed',
        maxQueue: 1,
      },
    );
    this.#subs.push(released);
  }

  /** Asks for a pass soon; cheap to call often. */
  trigger(): void {
    // A slot we hand back after a failed start must not re-trigger us: with a starter that
    // keeps failing, that would spin forever.
    if (this.#stopped || this.#selfRelease) return;
    void this.distribute().catch((err) => this.#error(err, 'distribution pass'));
  }

  /** Runs a pass (or joins the one running and runs one more after it). */
  async distribute(): Promise<void> {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#pass();
        } while (this.#again && !this.#stopped);
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const s of this.#subs) s.unsubscribe();
    this.#subs = [];
    await this.#running;
  }

  async #pass(): Promise<void> {
    const { data } = this.#o;
    const candidates: { builder: DistributorBuilder; best: { priority: number; submittedAt: number } }[] = [];
    const pageSize = this.#o.pageSize ?? 100;
    const pending = new Map<number, PendingRequest[]>();
    // A snapshot: a reconfig may change the builder set while this pass awaits.
    const builders = [...this.#o.builders()];
    for (const builder of builders) {
      if (this.#available(builder).length === 0) continue;
      // Every builder in the queue has its page read in the first round anyway: read it
      // now and order the builders by its first request.
      const page = await data.buildrequests.pendingForBuilder(builder.builderid, pageSize);
      const best = page[0];
      if (!best) continue;
      candidates.push({ builder, best });
      pending.set(builder.builderid, page);
    }
    const queue = orderBuilders(candidates);
    let active = queue;
    while (active.length > 0 && !this.#stopped) {
      const next: DistributorBuilder[] = [];
      for (const builder of active) {
        let page = pending.get(builder.builderid);
        if (!page) {
          page = await data.buildrequests.pendingForBuilder(builder.builderid, pageSize);
          pending.set(builder.builderid, page);
        }
        if (await this.#startOne(builder, page)) next.push(builder);
        // An exhausted page is re-read next round: more may be pending beyond it.
        if (page.length === 0) pending.delete(builder.builderid);
      }
      active = next;
    }
    const { noWorkerFree } = this.#o;
    if (!noWorkerFree || this.#stopped) return;
    for (const builder of builders)
      if (this.#available(builder).length === 0)
        await this.#guard(
          () => noWorkerFree(builder),
          `starting workers for builder ${builder.name}`,
          undefined,
        );
  }

  #available(builder: DistributorBuilder): WorkerSlot[] {
    const out: WorkerSlot[] = [];
    for (const name of builder.config.workerNames) {
      const w = this.#o.worker(name);
      if (w?.isAvailable() && this.#canStart(builder, w)) out.push(w);
    }
    return out;
  }

  /** Starts at most one build for `builder` from `page`; true if it did (and may do more). */
  async #startOne(builder: DistributorBuilder, page: PendingRequest[]): Promise<boolean> {
    const workers = this.#available(builder);
    if (workers.length === 0) return false;
    for (let i = 0; i < page.length; i++) {
      const request = page[i]!;
      const worker = await this.#pickWorker(builder, workers, request);
      if (!worker) continue; // Nobody may take this one now; a later request may fit.
      const group = await this.#guard(
        () => collapseGroup(request, page, builder.config.collapseRequests),
        `collapseRequests of builder ${builder.name}`,
        [request],
      );
      const ids = group.map((r) => r.id);
      try {
        await this.#o.data.buildrequests.claim(ids, this.#o.masterid);
      } catch (err) {
        if (!(err instanceof AlreadyClaimedError)) throw err;
        // Another master got there first; forget this page and read a fresh one next round.
        page.length = 0;
        return true;
      }
      removeAll(page, ids);
      const target = group[group.length - 1]!;
      const assignment: Assignment = { builder, worker, request: target, collapsed: group.slice(0, -1) };
      worker.acquire();
      try {
        await this.#o.starter.startBuild(assignment);
      } catch (err) {
        this.#selfRelease = true;
        try {
          worker.release();
        } finally {
          this.#selfRelease = false;
        }
        await this.#o.data.buildrequests.unclaim(ids, this.#o.masterid);
        this.#error(err, `starting a build of ${builder.name} on ${worker.name}`);
        return false;
      }
      if (assignment.collapsed.length > 0) {
        await this.#o.data.buildrequests.complete(
          assignment.collapsed.map((r) => r.id),
          SKIPPED,
          this.#o.masterid,
        );
      }
      return true;
    }
    return false;
  }

  async #pickWorker(
    builder: DistributorBuilder,
    workers: readonly WorkerSlot[],
    request: PendingRequest,
  ): Promise<WorkerSlot | null> {
    const { canStartBuild, nextWorker } = builder.config;
    let allowed = workers.filter((w) => w.isAvailable() && this.#canStart(builder, w));
    if (canStartBuild) {
      const verdicts = await Promise.all(
        allowed.map((w) =>
          this.#guard(
            async () => canStartBuild(builder.name, w, request),
            `canStartBuild of builder ${builder.name}`,
            false,
          ),
        ),
      );
      allowed = allowed.filter((_, i) => verdicts[i]);
    }
    if (allowed.length === 0) return null;
    if (nextWorker) {
      const picked = await this.#guard(
        async () => nextWorker(builder.name, allowed, request),
        `nextWorker of builder ${builder.name}`,
        null,
      );
      // Only a worker we offered counts; anything else would bypass the checks above.
      return allowed.find((w) => w === picked) ?? null;
    }
    return fairestWorker(allowed);
  }

  #canStart(builder: DistributorBuilder, worker: WorkerSlot): boolean {
    return this.#o.starter.canStart?.(builder, worker) ?? true;
  }

  async #guard<T>(fn: () => Promise<T>, context: string, fallback: T): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.#error(err, context);
      return fallback;
    }
  }

  #error(err: unknown, context: string): void {
    if (this.#o.onError) this.#o.onError(err, context);
    else console.error(`distributor: ${context}:`, err);
  }
}

function removeAll(page: PendingRequest[], ids: readonly number[]): void {
  const gone = new Set(ids);
  let j = 0;
  for (const r of page) if (!gone.has(r.id)) page[j++] = r;
  page.length = j;
}
