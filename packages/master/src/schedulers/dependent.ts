// The dependent scheduler: when a buildset of its upstream scheduler completes with
// SUCCESS or WARNINGS, it adds one for its own builders with the same source stamps.
// The upstream is recognised by the `scheduler` property every scheduler stores on its
// buildsets, read from the database when the buildset completes, so nothing needs to be
// remembered between the two (a restart in between loses nothing but a completion that
// happened while the master was down).
import { SUCCESS, WARNINGS } from '../results.js';
import { addSchedulerBuildset } from './buildset.js';
import type { Scheduler, SchedulerContext } from './scheduler.js';

export interface DependentSchedulerOptions {
  readonly name: string;
  /** The name of the scheduler whose buildsets this one follows. */
  readonly upstream: string;
  readonly builderNames: readonly string[];
  readonly properties?: Readonly<Record<string, unknown>>;
  readonly reason?: string;
  readonly priority?: number;
}

export interface DependentSchedulerEntry extends DependentSchedulerOptions {
  readonly kind: 'Dependent';
}

export interface ResolvedDependentSchedulerConfig {
  readonly kind: 'Dependent';
  readonly name: string;
  readonly upstream: string;
  readonly builderNames: readonly string[];
  readonly properties: Readonly<Record<string, unknown>>;
  readonly reason: string;
  readonly priority: number;
}

export function resolveDependentScheduler(o: DependentSchedulerOptions): ResolvedDependentSchedulerConfig {
  return {
    kind: 'Dependent',
    name: o.name,
    upstream: o.upstream,
    builderNames: o.builderNames,
    properties: o.properties ?? {},
    reason: o.reason ?? `downstream of scheduler ${JSON.stringify(o.upstream)}`,
    priority: o.priority ?? 0,
  };
}

export class DependentScheduler implements Scheduler {
  #unsubscribe: (() => void) | null = null;
  #work: Promise<void> = Promise.resolve();

  constructor(
    readonly config: ResolvedDependentSchedulerConfig,
    private readonly ctx: SchedulerContext,
  ) {}

  get name(): string {
    return this.config.name;
  }

  async start(): Promise<void> {
    const sub = this.ctx.bus.subscribe(
      'buildset.complete',
      (m) => {
        const { buildsetid, results } = m.payload;
        if (results !== SUCCESS && results !== WARNINGS) return;
        const run = this.#work.then(() => this.#upstreamSucceeded(buildsetid));
        this.#work = run.catch((err: unknown) =>
          this.ctx.log.warn(
            `scheduler ${this.name}: following buildset ${buildsetid} failed: ${(err as Error).message}`,
          ),
        );
        return this.#work;
      },
      { name: `scheduler:${this.name}` },
    );
    this.#unsubscribe = () => sub.unsubscribe();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    await this.#work;
  }

  async #upstreamSucceeded(buildsetid: number): Promise<void> {
    const { config, ctx } = this;
    const props = await ctx.data.buildsets.properties(buildsetid);
    if (props.scheduler?.[0] !== config.upstream) return;
    const upstream = await ctx.data.buildsets.get(buildsetid);
    if (!upstream) return;
    const added = await addSchedulerBuildset(ctx, {
      scheduler: config.name,
      builderNames: config.builderNames,
      sourcestampids: upstream.sourcestampids,
      reason: config.reason,
      priority: config.priority,
      schedulerProperties: config.properties,
    });
    if (added)
      ctx.log.info(
        `scheduler ${this.name}: buildset ${added.buildsetid} after upstream buildset ${buildsetid}`,
      );
  }
}
