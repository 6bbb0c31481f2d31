// Automatic bisection, for builders with `bisect: true`: when an ordinary build fails with
// more than one change in its blamelist, rank the suspects against the failing step's
// output, then build intermediate revisions on the same builder (BisectPlan: suspects
// first, at most ⌈log₂ n⌉ + 1 builds) and record the first bad change with the evidence
// on the failing build. Bisection builds carry the buildset property `bisect_of` (source
// "Bisect") and a reason saying so; they get no blamelist row, so they neither trigger a
// bisection nor count as the last passing build.

import type { BisectionProbe, Suspect } from '../data/bisections.js';
import { BISECT_OF_PROPERTY } from '../data/blame.js';
import type { ChangeRow } from '../data/changes.js';
import type { Master } from '../master.js';
import { waitForRequest } from '../process/control.js';
import { FAILURE, RESULT_NAMES, type Result } from '../results.js';
import type { Service } from '../service.js';
import { failingStepOutput } from './failing-output.js';
import { BisectPlan } from './plan.js';
import { rankSuspects } from './rank.js';

export const BISECT_PROPERTY_SOURCE = 'Bisect';

class Stopped extends Error {}

export class Bisector implements Service {
  readonly name = 'bisector';
  #unsubscribe: (() => void) | null = null;
  readonly #running = new Map<number, Promise<void>>();
  readonly #stop = new AbortController();

  constructor(
    private readonly master: Master,
    private readonly onError: (err: unknown, context: string) => void,
  ) {}

  async start(): Promise<void> {
    await this.master.data.bisections.interruptRunning('the master stopped during the bisection');
    const sub = this.master.bus.subscribe(
      'build.finished',
      (m) => {
        if (m.payload.results === FAILURE) this.#consider(m.payload.buildid, m.payload.builderid);
      },
      // The master that ran the build bisects it; another master's failures are not ours to bisect.
      { name: 'bisector', localOnly: true },
    );
    this.#unsubscribe = () => sub.unsubscribe();
  }

  /** Stops waiting for bisection builds; a bisection cut short is recorded as interrupted. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#stop.abort();
    await Promise.all(this.#running.values());
  }

  #consider(buildid: number, builderid: number): void {
    const builder = [...this.master.builders.values()].find((b) => b.builderid === builderid);
    if (!builder?.config.bisect || this.#running.has(buildid)) return;
    const run = this.#bisect(buildid, builderid)
      .catch((err: unknown) => {
        if (!(err instanceof Stopped)) this.onError(err, `bisecting build ${buildid}`);
      })
      .finally(() => this.#running.delete(buildid));
    this.#running.set(buildid, run);
  }

  async #bisect(buildid: number, builderid: number): Promise<void> {
    const { data } = this.master;
    const props = await data.builds.properties(buildid);
    if (props[BISECT_OF_PROPERTY] !== undefined) return;
    const blamelist = await data.blame.blamelist(buildid);
    const changes = blamelist?.changes ?? [];
    if (changes.length < 2) return;
    const output = await failingStepOutput(data, buildid);
    const suspects = rankSuspects(changes, output);
    const unbuildable = whyNotBisectable(changes);
    const opened = await data.bisections.start(
      buildid,
      builderid,
      suspects,
      unbuildable ?? `bisecting ${changes.length} changes`,
    );
    if (!opened) return;
    if (unbuildable) {
      await data.bisections.finish(buildid, 'inconclusive', null, unbuildable);
      return;
    }
    const plan = new BisectPlan(
      changes.length,
      suspects.map((s) => changes.findIndex((c) => c.id === s.changeid) + 1),
    );
    const evidence: BisectionProbe[] = [];
    try {
      for (let p = plan.next(); p !== null; p = plan.next()) {
        const probe = await this.#buildAt(buildid, builderid, changes[p - 1]!);
        evidence.push(probe);
        await data.bisections.setEvidence(buildid, evidence);
        if (probe.verdict === 'unusable') {
          const ended =
            probe.results === null ? 'did not run' : `ended ${RESULT_NAMES[probe.results as Result]}`;
          const summary = `the bisection build of ${probe.revision} ${ended}; no verdict`;
          await data.bisections.finish(buildid, 'inconclusive', null, summary);
          return;
        }
        plan.record(p, probe.verdict === 'good');
      }
    } catch (err) {
      if (err instanceof Stopped)
        await data.bisections.finish(buildid, 'interrupted', null, 'the master stopped during the bisection');
      throw err;
    }
    const first = plan.firstBad === null ? undefined : changes[plan.firstBad - 1];
    if (!first) {
      await data.bisections.finish(buildid, 'inconclusive', null, 'the build budget ran out');
      return;
    }
    await data.bisections.finish(
      buildid,
      'found',
      first.id,
      verdictSummary(first, suspects, evidence.length, blamelist?.since === null),
    );
  }

  /** Builds the tree as of one change on the failing build's builder and waits for the result. */
  async #buildAt(buildid: number, builderid: number, change: ChangeRow): Promise<BisectionProbe> {
    // Nothing new is asked of a master that is stopping.
    if (this.#stop.signal.aborted) throw new Stopped();
    const { data } = this.master;
    const sourcestampid = await data.sourcestamps.findOrCreate({
      codebase: change.codebase,
      repository: change.repository,
      project: change.project,
      branch: change.branch,
      revision: change.revision,
    });
    const added = await data.buildsets.add({
      sourcestampids: [sourcestampid],
      builderids: [builderid],
      reason: `bisection of build ${buildid}: is ${change.revision} bad?`,
      properties: { [BISECT_OF_PROPERTY]: buildid },
      propertiesSource: BISECT_PROPERTY_SOURCE,
    });
    const buildrequestid = added.buildrequestids.get(builderid)!;
    const request = await this.#untilStopped(waitForRequest(this.master, buildrequestid));
    const builds = await data.builds.forRequest(buildrequestid);
    const build = builds[builds.length - 1];
    const results = build?.results ?? request.results;
    return {
      changeid: change.id,
      revision: change.revision,
      buildrequestid,
      buildid: build?.id ?? null,
      results,
      verdict: results === 0 || results === 1 ? 'good' : results === FAILURE ? 'bad' : 'unusable',
    };
  }

  #untilStopped<T>(work: Promise<T>): Promise<T> {
    const signal = this.#stop.signal;
    if (signal.aborted) return Promise.reject(new Stopped());
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new Stopped());
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }
}

/** A blamelist bisection cannot walk: changes without revisions, or of several codebases. */
export function whyNotBisectable(changes: readonly ChangeRow[]): string | null {
  if (changes.some((c) => c.revision === null))
    return 'not bisected: a change in the blamelist has no revision';
  const where = new Set(changes.map((c) => JSON.stringify([c.codebase, c.repository, c.branch])));
  if (where.size > 1) return 'not bisected: the changes span several codebases, repositories or branches';
  return null;
}

function verdictSummary(
  first: ChangeRow,
  suspects: readonly Suspect[],
  builds: number,
  assumedBase: boolean,
): string {
  const suspected = suspects[0]?.changeid === first.id ? ', the top suspect' : '';
  const base = assumedBase
    ? ' (no earlier passing build: the tree before the first change was taken as good)'
    : '';
  return `first bad change ${first.id} (${first.revision} by ${first.author})${suspected}, found in ${builds} build(s)${base}`;
}
