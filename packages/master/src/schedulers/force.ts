// The force scheduler: the one way a person starts a build (`lathe force`, the control
// port; the planned HTTP force action). It declares which builders may be forced and which
// typed parameters (force-parameters.ts) a forced build takes; only those become build
// properties (source "Force Build Form", as in Buildbot), with `owner` and `reason`.
// A config without a force scheduler gets an implicit one, named "force", for all builders,
// that takes any properties: forcing works as it did before force schedulers existed.
//
// Entry point for callers (control port, HTTP actions):
//
//   const scheduler = findForceScheduler(master.schedulers.values(), { builder: 'app' });
//   const { buildsetid, requests } = await scheduler.force({
//     builderNames: ['app'], owner: 'alice', reason: 'release', params: { jobs: '4' },
//   });
//
// `force` throws ForceParameterError (every bad parameter named) or ForceRequestError.

import { addSchedulerBuildset } from './buildset.js';
import { type ForceParameter, parametersToProperties } from './force-parameters.js';
import type { Scheduler, SchedulerContext } from './scheduler.js';

export const FORCE_PROPERTY_SOURCE = 'Force Build Form';
/** The implicit force scheduler's name. */
export const IMPLICIT_FORCE_SCHEDULER = 'force';
const DEFAULT_REASON_STRING = "A build was forced by '%(owner)s': %(reason)s";

export interface ForceSchedulerOptions {
  readonly name: string;
  readonly builderNames: readonly string[];
  /** The properties a forced build may be given, and their types. */
  readonly parameters?: readonly ForceParameter[];
  /** The buildset's reason; `%(owner)s` and `%(reason)s` are filled in. */
  readonly reasonString?: string;
  /** Refuse a force without a reason. */
  readonly reasonRequired?: boolean;
  /** Properties of every forced build (source "Scheduler"). */
  readonly properties?: Readonly<Record<string, unknown>>;
  readonly priority?: number;
}

export interface ForceSchedulerEntry extends ForceSchedulerOptions {
  readonly kind: 'ForceScheduler';
}

export interface ResolvedForceSchedulerConfig {
  readonly kind: 'ForceScheduler';
  readonly name: string;
  readonly builderNames: readonly string[];
  readonly parameters: readonly ForceParameter[];
  readonly reasonString: string;
  readonly reasonRequired: boolean;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly priority: number;
  /** Added by validation for a config without force schedulers: takes any properties. */
  readonly implicit: boolean;
}

export function resolveForceScheduler(
  o: ForceSchedulerOptions,
  implicit = false,
): ResolvedForceSchedulerConfig {
  return {
    kind: 'ForceScheduler',
    name: o.name,
    builderNames: o.builderNames,
    parameters: o.parameters ?? [],
    // The implicit scheduler keeps what `lathe force` stored before: the reason as given.
    reasonString: o.reasonString ?? (implicit ? '%(reason)s' : DEFAULT_REASON_STRING),
    reasonRequired: o.reasonRequired ?? false,
    properties: o.properties ?? {},
    priority: o.priority ?? 0,
    implicit,
  };
}

/** One source stamp to build; left out, the builders' default (empty) one. */
export interface ForcedSource {
  readonly codebase?: string;
  readonly repository?: string;
  readonly branch?: string | null;
  readonly revision?: string | null;
  readonly project?: string;
}

export interface ForceSchedulerRequest {
  /** Some of the scheduler's builders; default all of them. */
  readonly builderNames?: readonly string[];
  /** Who forces (the `owner` property). */
  readonly owner: string;
  readonly reason?: string;
  /** Parameter values, typed or as text; a nested group as an object. */
  readonly params?: Readonly<Record<string, unknown>>;
  readonly sources?: readonly ForcedSource[];
  readonly priority?: number;
}

export interface ForcedBuildset {
  readonly buildsetid: number;
  readonly requests: readonly {
    readonly builder: string;
    readonly builderid: number;
    readonly buildrequestid: number;
  }[];
}

/** A force the scheduler cannot take, whatever its parameters. */
export class ForceRequestError extends Error {
  override readonly name = 'ForceRequestError';
}

export class ForceScheduler implements Scheduler {
  constructor(
    readonly config: ResolvedForceSchedulerConfig,
    private readonly ctx: SchedulerContext,
  ) {}

  get name(): string {
    return this.config.name;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** Checks everything first: a refused force adds nothing. */
  async force(request: ForceSchedulerRequest): Promise<ForcedBuildset> {
    const { config, ctx } = this;
    const builderNames = request.builderNames ?? config.builderNames;
    if (builderNames.length === 0)
      throw new ForceRequestError(`force scheduler ${this.name}: no builder named`);
    for (const b of builderNames) {
      if (!config.builderNames.includes(b))
        throw new ForceRequestError(
          `force scheduler ${JSON.stringify(this.name)} cannot force builder ${JSON.stringify(b)} (its builders: ${config.builderNames.join(', ')})`,
        );
      if (ctx.builderid(b) === undefined)
        throw new ForceRequestError(
          `force scheduler ${JSON.stringify(this.name)}: builder ${JSON.stringify(b)} is not configured`,
        );
    }
    const reason = request.reason?.trim() ?? '';
    if (config.reasonRequired && reason === '')
      throw new ForceRequestError(`force scheduler ${JSON.stringify(this.name)} needs a reason`);
    if (request.owner.trim() === '') throw new ForceRequestError('a force needs an owner');
    const params = parametersToProperties(
      this.name,
      config.parameters,
      request.params ?? {},
      config.implicit,
    );
    const sources = request.sources?.length ? request.sources : [{}];
    const project = ctx.builderProject(builderNames[0]!);
    const sourcestampids: number[] = [];
    for (const s of sources)
      sourcestampids.push(
        await ctx.data.sourcestamps.findOrCreate({
          codebase: s.codebase ?? '',
          repository: s.repository ?? '',
          branch: s.branch ?? null,
          revision: s.revision ?? null,
          project: s.project ?? project,
        }),
      );
    const added = await addSchedulerBuildset(ctx, {
      scheduler: this.name,
      builderNames,
      sourcestampids,
      reason: config.reasonString.replaceAll('%(owner)s', request.owner).replaceAll('%(reason)s', reason),
      priority: request.priority ?? config.priority,
      schedulerProperties: config.properties,
      requestProperties: { ...params, owner: request.owner, reason },
      requestPropertiesSource: FORCE_PROPERTY_SOURCE,
    });
    if (!added)
      throw new ForceRequestError(
        `force scheduler ${JSON.stringify(this.name)}: none of its builders is configured`,
      );
    return { buildsetid: added.buildsetid, requests: added.requests };
  }
}

/**
 * The force scheduler to use: the one named `scheduler`, else the first that may force
 * `builder` (the implicit one when the config declares none). Throws ForceRequestError
 * naming what there is.
 */
export function findForceScheduler(
  schedulers: Iterable<Scheduler>,
  which: { readonly scheduler?: string; readonly builder?: string },
): ForceScheduler {
  const forcers = [...schedulers].filter((s): s is ForceScheduler => s instanceof ForceScheduler);
  const names = forcers.map((s) => s.name).join(', ') || 'none';
  if (which.scheduler !== undefined) {
    const named = forcers.find((s) => s.name === which.scheduler);
    if (!named)
      throw new ForceRequestError(
        `no force scheduler named ${JSON.stringify(which.scheduler)} (force schedulers: ${names})`,
      );
    return named;
  }
  const found = forcers.find(
    (s) => which.builder === undefined || s.config.builderNames.includes(which.builder),
  );
  if (!found)
    throw new ForceRequestError(
      `no force scheduler may force builder ${JSON.stringify(which.builder)} (force schedulers: ${names})`,
    );
  return found;
}
