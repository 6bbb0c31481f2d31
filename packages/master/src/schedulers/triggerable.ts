// The triggerable scheduler: builds nothing on its own; a Trigger step names it
// (`schedulerNames`) and it adds one buildset for its builders, whose parent is the
// triggering build, with the source stamps and properties the step passes on. The step
// waits on the requests if asked to (process/requester.ts).
import { addSchedulerBuildset, type SchedulerBuildset } from './buildset.js';
import type { Scheduler, SchedulerContext } from './scheduler.js';

export interface TriggerableSchedulerOptions {
  readonly name: string;
  readonly builderNames: readonly string[];
  /** Properties of every buildset it adds (source "Scheduler"); the step's win over them. */
  readonly properties?: Readonly<Record<string, unknown>>;
  /** Default reason when the step gives none. */
  readonly reason?: string;
  readonly priority?: number;
}

export interface TriggerableSchedulerEntry extends TriggerableSchedulerOptions {
  readonly kind: 'Triggerable';
}

export interface ResolvedTriggerableSchedulerConfig {
  readonly kind: 'Triggerable';
  readonly name: string;
  readonly builderNames: readonly string[];
  readonly properties: Readonly<Record<string, unknown>>;
  readonly reason: string;
  readonly priority: number;
}

export function resolveTriggerableScheduler(
  o: TriggerableSchedulerOptions,
): ResolvedTriggerableSchedulerConfig {
  return {
    kind: 'Triggerable',
    name: o.name,
    builderNames: o.builderNames,
    properties: o.properties ?? {},
    reason: o.reason ?? `The Triggerable scheduler named ${JSON.stringify(o.name)} triggered this build`,
    priority: o.priority ?? 0,
  };
}

export interface TriggerRequest {
  readonly sourcestampids: readonly number[];
  /** Properties the step sets or copies, with `propertiesSource` ("Trigger"). */
  readonly properties: Readonly<Record<string, unknown>>;
  readonly propertiesSource: string;
  readonly reason?: string;
  readonly parentBuildid: number;
  readonly parentRelationship: string;
}

/** A Trigger step named a scheduler that is not a triggerable one of this master. */
export class UnknownTriggerableError extends Error {
  override readonly name = 'UnknownTriggerableError';
  constructor(
    readonly scheduler: string,
    known: readonly string[],
  ) {
    super(
      `trigger: no triggerable scheduler named ${JSON.stringify(scheduler)} (triggerable schedulers: ${known.join(', ') || 'none'})`,
    );
  }
}

export class TriggerableScheduler implements Scheduler {
  constructor(
    readonly config: ResolvedTriggerableSchedulerConfig,
    private readonly ctx: SchedulerContext,
  ) {}

  get name(): string {
    return this.config.name;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** Adds the buildset; null when none of its builders is configured any more. */
  trigger(request: TriggerRequest): Promise<SchedulerBuildset | null> {
    const { config } = this;
    return addSchedulerBuildset(this.ctx, {
      scheduler: config.name,
      builderNames: config.builderNames,
      sourcestampids: request.sourcestampids,
      reason: request.reason ?? config.reason,
      priority: config.priority,
      schedulerProperties: config.properties,
      requestProperties: request.properties,
      requestPropertiesSource: request.propertiesSource,
      parentBuildid: request.parentBuildid,
      parentRelationship: request.parentRelationship,
    });
  }
}

/** The triggerable scheduler named `name`, or UnknownTriggerableError listing those there are. */
export function findTriggerable(schedulers: Iterable<Scheduler>, name: string): TriggerableScheduler {
  const all = [...schedulers].filter((s): s is TriggerableScheduler => s instanceof TriggerableScheduler);
  const found = all.find((s) => s.name === name);
  if (!found)
    throw new UnknownTriggerableError(
      name,
      all.map((s) => s.name),
    );
  return found;
}
