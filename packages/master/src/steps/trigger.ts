// Trigger: starts builds on other builders as a buildset whose parent is this build, with
// this build's source stamps (the checked-out `got_revision` by default) and chosen
// properties; optionally waits and takes the worst of their results. Buildbot triggers
// Triggerable schedulers by name; Lathe has no schedulers yet, so this names builders.
// A stopped build cancels the builds it is waiting for.
import type { SourceSpec, StepContext } from '../config/steps.js';
import { CANCELLED, type Result, resultName, SUCCESS, worstResult } from '../results.js';
import { type StepValue, stepValue } from './args.js';
import { Step, type StepOptions } from './base.js';

export interface TriggerOptions extends StepOptions {
  readonly builderNames: StepValue<readonly string[]>;
  /** Wait for the triggered builds and take the worst of their results; default false. */
  readonly waitForFinish?: boolean;
  /** Replace the revision with this build's `got_revision`; default true, as in Buildbot. */
  readonly updateSourceStamp?: boolean;
  /** Build the branch tips instead of this build's revisions. */
  readonly alwaysUseLatest?: boolean;
  /** Properties of this build passed on by name. */
  readonly copyProperties?: readonly string[];
  /** Properties set on the triggered builds (renderables rendered in this build). */
  readonly setProperties?: StepValue<Readonly<Record<string, unknown>>>;
  readonly reason?: StepValue<string>;
}

export class Trigger extends Step<TriggerOptions> {
  constructor(options: TriggerOptions) {
    super(options, 'trigger');
  }

  async run(ctx: StepContext): Promise<Result> {
    const o = this.options;
    const builderNames = await stepValue(o.builderNames, ctx);
    const properties: Record<string, unknown> = {};
    for (const name of o.copyProperties ?? []) {
      const v = ctx.getProperty(name);
      if (v !== undefined) properties[name] = v;
    }
    Object.assign(properties, o.setProperties === undefined ? {} : await stepValue(o.setProperties, ctx));
    const { requests } = await ctx.builds.request({
      builderNames,
      sources: this.#sources(ctx),
      properties,
      reason:
        o.reason === undefined
          ? `The Triggerable step ${this.name} of ${ctx.builderName} #${ctx.buildNumber}`
          : await stepValue(o.reason, ctx),
    });
    await ctx.setState(`triggered ${builderNames.join(', ')}`);
    if (!o.waitForFinish) return SUCCESS;
    const cancelAll = () => {
      for (const r of requests) void ctx.builds.cancel(r.buildrequestid, 'the triggering build was stopped');
    };
    // A stop cancels the triggered builds and ends the wait at once: a request another
    // master holds must not keep this build from ending.
    let onAbort = () => {};
    const aborted = new Promise<null>((resolve) => {
      onAbort = () => {
        cancelAll();
        resolve(null);
      };
    });
    ctx.signal.addEventListener('abort', onAbort);
    try {
      if (ctx.signal.aborted) onAbort();
      const results = await Promise.race([
        Promise.all(requests.map((r) => ctx.builds.wait(r.buildrequestid))),
        aborted,
      ]);
      if (results === null) return CANCELLED;
      const log = await ctx.addLog('triggered builds');
      await log.write(
        'h',
        requests
          .map((r, i) => `${r.builder}: build request ${r.buildrequestid}: ${resultName(results[i])}\n`)
          .join(''),
      );
      return results.reduce<Result>((acc, r) => worstResult(acc, r) ?? acc, SUCCESS);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  #sources(ctx: StepContext): SourceSpec[] {
    const got = ctx.getProperty('got_revision');
    return ctx.builds.sources.map((s) => {
      if (this.options.alwaysUseLatest) return { ...s, revision: null };
      // A single-codebase got_revision is a string; per-codebase ones are a dict, as in Buildbot.
      const rev =
        typeof got === 'string'
          ? got
          : got && typeof got === 'object'
            ? (got as Record<string, unknown>)[s.codebase]
            : undefined;
      if ((this.options.updateSourceStamp ?? true) && typeof rev === 'string') return { ...s, revision: rev };
      return s;
    });
  }
}

export const trigger = (o: TriggerOptions) => new Trigger(o);
