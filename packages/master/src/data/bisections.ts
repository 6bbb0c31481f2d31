// Bisection verdicts, recorded on the failing build: the ranked suspects, each bisection
// build with its result, and the first bad change once found.
import type { DataContext } from './context.js';
import { parseJson } from './context.js';

export type BisectionState = 'running' | 'found' | 'inconclusive' | 'interrupted';

export interface Suspect {
  readonly changeid: number;
  readonly revision: string | null;
  readonly author: string;
  /** How many of its files the failing step's output names. */
  readonly score: number;
  readonly files: readonly string[];
}

/** One bisection build: which change's revision was built, and how it ended. */
export interface BisectionProbe {
  readonly changeid: number;
  readonly revision: string | null;
  readonly buildrequestid: number;
  readonly buildid: number | null;
  readonly results: number | null;
  readonly verdict: 'good' | 'bad' | 'unusable';
}

export interface BisectionRow {
  readonly id: number;
  readonly buildid: number;
  readonly builderid: number;
  readonly state: BisectionState;
  readonly firstBadChangeid: number | null;
  readonly summary: string;
  readonly suspects: readonly Suspect[];
  readonly evidence: readonly BisectionProbe[];
  readonly startedAt: number;
  readonly completeAt: number | null;
}

export class BisectionsData {
  constructor(private readonly ctx: DataContext) {}

  /** Opens the record; false when the build already has one (a bisection runs once per build). */
  async start(
    buildid: number,
    builderid: number,
    suspects: readonly Suspect[],
    summary: string,
  ): Promise<boolean> {
    const inserted = await this.ctx.db
      .insertInto('bisections')
      .values({
        buildid,
        builderid,
        state: 'running',
        first_bad_changeid: null,
        summary,
        suspects: JSON.stringify(suspects),
        evidence: '[]',
        started_at: this.ctx.now(),
        complete_at: null,
      })
      .onConflict((oc) => oc.column('buildid').doNothing())
      .executeTakeFirst();
    return (inserted.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  /** Replaces the evidence so far (a few probes: rewriting the list is cheaper than a table). */
  async setEvidence(buildid: number, evidence: readonly BisectionProbe[]): Promise<void> {
    await this.ctx.db
      .updateTable('bisections')
      .set({ evidence: JSON.stringify(evidence) })
      .where('buildid', '=', buildid)
      .execute();
  }

  async finish(
    buildid: number,
    state: Exclude<BisectionState, 'running'>,
    firstBadChangeid: number | null,
    summary: string,
  ): Promise<void> {
    await this.ctx.db
      .updateTable('bisections')
      .set({ state, first_bad_changeid: firstBadChangeid, summary, complete_at: this.ctx.now() })
      .where('buildid', '=', buildid)
      .where('state', '=', 'running')
      .execute();
  }

  async get(buildid: number): Promise<BisectionRow | undefined> {
    const r = await this.ctx.db
      .selectFrom('bisections')
      .selectAll()
      .where('buildid', '=', buildid)
      .executeTakeFirst();
    if (!r) return undefined;
    return {
      id: r.id,
      buildid: r.buildid,
      builderid: r.builderid,
      state: r.state as BisectionState,
      firstBadChangeid: r.first_bad_changeid,
      summary: r.summary,
      suspects: parseJson<Suspect[]>(r.suspects, []),
      evidence: parseJson<BisectionProbe[]>(r.evidence, []),
      startedAt: r.started_at,
      completeAt: r.complete_at,
    };
  }

  /** Bisections a stopped or crashed master left running, closed as interrupted (at start-up). */
  async interruptRunning(summary: string): Promise<void> {
    await this.ctx.db
      .updateTable('bisections')
      .set({ state: 'interrupted', summary, complete_at: this.ctx.now() })
      .where('state', '=', 'running')
      .execute();
  }
}
