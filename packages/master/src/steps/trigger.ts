// Trigger: starts builds of other builders as buildsets whose parent is this build, with
// this build's source stamps (the checked-out `got_revision` by default) and chosen
// properties; optionally waits and takes the worst of their results. As in Buildbot it
// names triggerable schedulers (`schedulerNames`; each adds one buildset for its builders);
// naming builders directly (`builderNames`, Lathe's form from before schedulers) still works.
// A stopped build cancels the builds it is waiting for. The waits read the database as
// well as listen to the bus (process/control.ts waitForRequest), so a missed event cannot
// leave the step waiting for ever.
//
// The step shows what it started, as step URLs: each triggered build that starts while the
// step runs is linked as `<builder> #<number>` to its page; a request that has no build yet
// when the step ends (always the case for a fire-and-forget trigger, whose step ends at
// once) is linked as `<builder> request #<id>` to the request's page, which lists the
// builds it gets later. Buildbot links every request at once and adds the builds at the
// end; linking builds as they start lets a user follow a long wait.

import { CANCELLED, RESULT_NAMES, type Result, resultName, SUCCESS, worstResult } from '../results.js';
import { type StepValue, stepValue } from './args.js';
import { Step, type StepOptions } from './base.js';
import type { RequestedBuild, SourceSpec, StepContext } from './contract.js';
import { StepOptionError, stepBoolean } from './option-values.js';

/** The source the triggered builds' properties carry, as in Buildbot. */
export const TRIGGER_PROPERTY_SOURCE = 'Trigger';

export interface TriggerOptions extends StepOptions {
  /** Triggerable schedulers to trigger (Buildbot's form). Give this or builderNames. */
  readonly schedulerNames?: StepValue<readonly string[]>;
  /** Builders to request directly, in one buildset. */
  readonly builderNames?: StepValue<readonly string[]>;
  /** Wait for the triggered builds and take the worst of their results; default false. */
  readonly waitForFinish?: StepValue<boolean>;
  /** Replace the revision with this build's `got_revision`; default true, as in Buildbot. */
  readonly updateSourceStamp?: StepValue<boolean>;
  /** Build the branch tips instead of this build's revisions. */
  readonly alwaysUseLatest?: StepValue<boolean>;
  /** Properties of this build passed on by name. */
  readonly copyProperties?: StepValue<readonly string[]>;
  /** Properties set on the triggered builds (renderables rendered in this build). */
  readonly setProperties?: StepValue<Readonly<Record<string, unknown>>>;
  /**
   * The buildsets' reason. Default with schedulerNames: a `reason` property it sets, else
   * the scheduler's own (as in Buildbot); with builderNames: the step and build named.
   */
  readonly reason?: StepValue<string>;
}

export class Trigger extends Step<TriggerOptions> {
  constructor(options: TriggerOptions) {
    if ((options.schedulerNames === undefined) === (options.builderNames === undefined))
      throw new StepOptionError(
        'schedulerNames',
        undefined,
        'the triggerable schedulers to trigger (or builderNames, not both)',
      );
    super(options, 'trigger');
  }

  async run(ctx: StepContext): Promise<Result> {
    const o = this.options;
    const schedulerNames =
      o.schedulerNames === undefined ? undefined : await stepValue(o.schedulerNames, ctx);
    const builderNames = o.builderNames === undefined ? undefined : await stepValue(o.builderNames, ctx);
    const waitForFinish =
      o.waitForFinish === undefined ? false : await stepBoolean(o.waitForFinish, ctx, 'waitForFinish');
    const sources = this.#sources(ctx, {
      alwaysUseLatest:
        o.alwaysUseLatest === undefined
          ? false
          : await stepBoolean(o.alwaysUseLatest, ctx, 'alwaysUseLatest'),
      updateSourceStamp:
        o.updateSourceStamp === undefined
          ? true
          : await stepBoolean(o.updateSourceStamp, ctx, 'updateSourceStamp'),
    });
    const properties: Record<string, unknown> = {};
    for (const name of o.copyProperties === undefined ? [] : await stepNames(o.copyProperties, ctx)) {
      const v = ctx.getProperty(name);
      if (v !== undefined) properties[name] = v;
    }
    Object.assign(properties, o.setProperties === undefined ? {} : await stepValue(o.setProperties, ctx));
    const setReason = typeof properties.reason === 'string' ? properties.reason : undefined;
    const reason =
      o.reason !== undefined
        ? await stepValue(o.reason, ctx)
        : schedulerNames
          ? setReason
          : `The Triggerable step ${this.name} of ${ctx.builderName} #${ctx.buildNumber}`;
    const { requests } = await ctx.builds.request({
      ...(schedulerNames ? { schedulerNames } : { builderNames: builderNames ?? [] }),
      sources,
      properties,
      propertiesSource: TRIGGER_PROPERTY_SOURCE,
      ...(reason === undefined ? {} : { reason }),
    });
    const triggered = `triggered ${(schedulerNames ?? builderNames ?? []).join(', ')}`;

    const linked = new Set<number>();
    const links = new Writes();
    const watch = ctx.builds.watchBuilds(
      requests.map((r) => r.buildrequestid),
      (b) => {
        linked.add(b.buildrequestid);
        links.add(() => ctx.addUrl(`${b.builder} #${b.number}`, b.url));
      },
    );
    try {
      if (!waitForFinish) {
        ctx.setResultSummary(triggered);
        return SUCCESS;
      }
      return await this.#wait(ctx, requests, triggered);
    } finally {
      await watch.stop();
      for (const r of requests) {
        if (!linked.has(r.buildrequestid))
          links.add(() => ctx.addUrl(`${r.builder} request #${r.buildrequestid}`, r.url));
      }
      await links.done();
    }
  }

  async #wait(ctx: StepContext, requests: readonly RequestedBuild[], triggered: string): Promise<Result> {
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
    // The state names what is still awaited and tallies what has finished.
    const waitingFor = new Set(requests);
    const finished: Result[] = [];
    const stateWrites = new Writes();
    // After a stop the waits still settle; the finished step's state is no longer theirs.
    let over = false;
    const showState = () => {
      if (over) return;
      const names = [...waitingFor].map((r) => r.builder).join(', ');
      const text =
        finished.length === 0 ? `waiting for ${names}` : `waiting for ${names}; ${tally(finished)}`;
      stateWrites.add(() => ctx.setState(text));
    };
    showState();
    ctx.signal.addEventListener('abort', onAbort);
    try {
      if (ctx.signal.aborted) onAbort();
      const results = await Promise.race([
        Promise.all(
          requests.map(async (r) => {
            const result = await ctx.builds.wait(r.buildrequestid);
            waitingFor.delete(r);
            finished.push(result);
            if (waitingFor.size > 0) showState();
            return result;
          }),
        ),
        aborted,
      ]);
      await stateWrites.done();
      if (results === null) {
        ctx.setResultSummary(triggered);
        return CANCELLED;
      }
      ctx.setResultSummary(`${triggered}: ${tally(results)}`);
      const log = await ctx.addLog('triggered builds');
      await log.write(
        'h',
        requests
          .map((r, i) => `${r.builder}: build request ${r.buildrequestid}: ${resultName(results[i])}\n`)
          .join(''),
      );
      return results.reduce<Result>((acc, r) => worstResult(acc, r) ?? acc, SUCCESS);
    } finally {
      over = true;
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  #sources(
    ctx: StepContext,
    o: { readonly alwaysUseLatest: boolean; readonly updateSourceStamp: boolean },
  ): SourceSpec[] {
    const got = ctx.getProperty('got_revision');
    return ctx.builds.sources.map((s) => {
      if (o.alwaysUseLatest) return { ...s, revision: null };
      // A single-codebase got_revision is a string; per-codebase ones are a dict, as in Buildbot.
      const rev =
        typeof got === 'string'
          ? got
          : got && typeof got === 'object'
            ? (got as Record<string, unknown>)[s.codebase]
            : undefined;
      if (o.updateSourceStamp && typeof rev === 'string') return { ...s, revision: rev };
      return s;
    });
  }
}

/** Property names: a list of strings, or one name as text (a property holding a single name). */
async function stepNames(value: StepValue<readonly string[]>, ctx: StepContext): Promise<readonly string[]> {
  const v: unknown = await stepValue(value, ctx);
  if (typeof v === 'string') return v === '' ? [] : [v];
  if (Array.isArray(v) && v.every((n) => typeof n === 'string')) return v;
  throw new StepOptionError('copyProperties', v, 'a list of property names');
}

/**
 * Writes made while the step waits, one after the other (a late state cannot overtake a
 * newer one; URLs keep their order). A failed write is reported by `done()`, not left as
 * an unhandled rejection while the step still waits.
 */
class Writes {
  #chain: Promise<void> = Promise.resolve();
  #error: { err: unknown } | null = null;

  add(write: () => Promise<void>): void {
    this.#chain = this.#chain.then(write).catch((err: unknown) => {
      this.#error ??= { err };
    });
  }

  async done(): Promise<void> {
    await this.#chain;
    if (this.#error) throw this.#error.err;
  }
}

/** `2 success, 1 failure`: counts in Buildbot's result order. */
function tally(results: readonly Result[]): string {
  const counts = new Map<Result, number>();
  for (const r of results) counts.set(r, (counts.get(r) ?? 0) + 1);
  return RESULT_NAMES.flatMap((name, r) => {
    const n = counts.get(r as Result);
    return n ? [`${n} ${name}`] : [];
  }).join(', ');
}

export const trigger = (o: TriggerOptions) => new Trigger(o);
