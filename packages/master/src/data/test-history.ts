// Per-test history: each test outcome a Test step parsed, per builder, with the test's list
// figures (last outcome, runs, failures, flaky state) kept current as runs arrive, and its
// quarantine. Recording a step's runs costs a few batched queries whatever the suite's size:
// the step's revision is the same for all its tests, so "which of these tests passed (or
// failed) on this revision lately" is one IN-list seek on test_runs(testid, revision, …).
import type { Kysely, Selectable } from 'kysely';
import type { Database, TestsTable } from '../db/schema.js';
import type { Outcome } from '../logparsers/summary.js';
import { batches, type DataContext } from './context.js';
import { NotFoundError } from './errors.js';
import { FLAKY_WINDOW_SECONDS, type FlakyState, nextFlakyState } from './flaky-rules.js';

/** Longer names are cut (a unique index must hold them, and a worker is not trusted). */
export const MAX_TEST_NAME = 500;
export const MAX_MUTE_REASON = 1000;

export interface TestRunInput {
  readonly builderid: number;
  readonly buildid: number;
  readonly stepid: number;
  /** The revision built; null when unknown or patched (such runs never contradict each other). */
  readonly revision: string | null;
  readonly outcomes: readonly { readonly name: string; readonly outcome: Outcome }[];
  /** Names quarantined when the step ran. */
  readonly muted: ReadonlySet<string>;
}

export interface TestRow {
  readonly id: number;
  readonly builderid: number;
  readonly name: string;
  readonly lastOutcome: Outcome;
  readonly runs: number;
  readonly failures: number;
  readonly flakyFailures: number;
  readonly flaky: FlakyState;
  readonly mutedBy: string | null;
  readonly mutedAt: number | null;
  readonly mutedReason: string | null;
}

/** A mute without a reason, or with too long a one. */
export class MuteReasonError extends Error {
  override readonly name = 'MuteReasonError';
  constructor(readonly testid: number) {
    super(`muting test ${testid} needs a reason of 1 to ${MAX_MUTE_REASON} characters`);
  }
}

export function testName(name: string): string {
  return name.length <= MAX_TEST_NAME ? name : `${name.slice(0, MAX_TEST_NAME - 1)}…`;
}

type Trx = Kysely<Database>;

export class TestHistoryData {
  constructor(private readonly ctx: DataContext) {}

  /** Records one step's test outcomes and updates each test's figures and flaky state. */
  async record(input: TestRunInput): Promise<void> {
    const now = this.ctx.now();
    const byName = new Map<string, Outcome>();
    for (const { name, outcome } of input.outcomes) {
      const n = testName(name);
      if (byName.get(n) !== 'fail') byName.set(n, outcome);
    }
    if (byName.size === 0) return;
    await this.ctx.db.transaction().execute(async (trx) => {
      const tests = await this.#ensureTests(trx, input, byName, now);
      const contradictions = await this.#contradictions(trx, input.revision, tests, byName, now);
      const rows = [...tests.values()].map((t) => ({
        testid: t.id,
        builderid: input.builderid,
        buildid: input.buildid,
        stepid: input.stepid,
        outcome: byName.get(t.name)!,
        revision: input.revision,
        recorded_at: now,
        contradicted: byName.get(t.name) === 'fail' && (contradictions.get(t.id) ?? 0) > 0 ? 1 : 0,
        muted: input.muted.has(t.name) ? 1 : 0,
      }));
      for (const batch of batches(rows, 50)) await trx.insertInto('test_runs').values(batch).execute();
      for (const t of tests.values()) {
        const outcome = byName.get(t.name)!;
        const found = contradictions.get(t.id) ?? 0;
        const flaky = nextFlakyState(t.flaky, { outcome, contradictions: found, at: now });
        await trx
          .updateTable('tests')
          .set({
            last_outcome: outcome,
            last_buildid: input.buildid,
            last_run_at: now,
            runs: t.runs + 1,
            failures: t.failures + (outcome === 'fail' ? 1 : 0),
            flaky_failures: t.flakyFailures + found,
            flaky_until: flaky.flakyUntil,
            passes_since_flaky: flaky.passesSinceFlaky,
          })
          .where('id', '=', t.id)
          .execute();
      }
    });
  }

  /** The tests of the input, created when first seen. */
  async #ensureTests(
    trx: Trx,
    input: TestRunInput,
    byName: ReadonlyMap<string, Outcome>,
    now: number,
  ): Promise<Map<number, TestRow>> {
    const names = [...byName.keys()];
    const known = await this.#byNames(trx, input.builderid, names);
    const missing = names.filter((n) => !known.some((t) => t.name === n));
    for (const batch of batches(missing, 50))
      await trx
        .insertInto('tests')
        .values(
          batch.map((name) => ({
            builderid: input.builderid,
            name,
            last_outcome: byName.get(name)!,
            last_buildid: input.buildid,
            last_run_at: now,
            flaky_until: null,
            muted_by: null,
            muted_at: null,
            muted_reason: null,
          })),
        )
        .execute();
    const all = missing.length === 0 ? known : await this.#byNames(trx, input.builderid, names);
    return new Map(all.map((t) => [t.id, t]));
  }

  async #byNames(trx: Trx, builderid: number, names: readonly string[]): Promise<TestRow[]> {
    const out: TestRow[] = [];
    for (const batch of batches(names))
      out.push(
        ...(
          await trx
            .selectFrom('tests')
            .selectAll()
            .where('builderid', '=', builderid)
            .where('name', 'in', batch)
            .execute()
        ).map(toTestRow),
      );
    return out;
  }

  /**
   * Failures each test's run contradicts on this revision within the window: for a failure,
   * 1 when the test passed on it (the failure itself is the flake); for a pass, the earlier
   * failures not yet contradicted, which are marked so now.
   */
  async #contradictions(
    trx: Trx,
    revision: string | null,
    tests: ReadonlyMap<number, TestRow>,
    byName: ReadonlyMap<string, Outcome>,
    now: number,
  ): Promise<Map<number, number>> {
    const found = new Map<number, number>();
    if (revision === null) return found;
    const since = now - FLAKY_WINDOW_SECONDS;
    const ids = (outcome: Outcome) =>
      [...tests.values()].filter((t) => byName.get(t.name) === outcome).map((t) => t.id);
    for (const batch of batches(ids('fail'))) {
      const passed = await trx
        .selectFrom('test_runs')
        .select('testid')
        .distinct()
        .where('testid', 'in', batch)
        .where('revision', '=', revision)
        .where('outcome', '=', 'pass')
        .where('recorded_at', '>=', since)
        .execute();
      for (const p of passed) found.set(p.testid, 1);
    }
    for (const batch of batches(ids('pass'))) {
      const failed = await trx
        .selectFrom('test_runs')
        .select(['id', 'testid'])
        .where('testid', 'in', batch)
        .where('revision', '=', revision)
        .where('outcome', '=', 'fail')
        .where('recorded_at', '>=', since)
        .where('contradicted', '=', 0)
        .execute();
      for (const f of failed) found.set(f.testid, (found.get(f.testid) ?? 0) + 1);
      for (const ids of batches(failed.map((f) => f.id)))
        await trx.updateTable('test_runs').set({ contradicted: 1 }).where('id', 'in', ids).execute();
    }
    return found;
  }

  async get(testid: number): Promise<TestRow | undefined> {
    const row = await this.ctx.db.selectFrom('tests').selectAll().where('id', '=', testid).executeTakeFirst();
    return row && toTestRow(row);
  }

  /** The names of the builder's quarantined tests (what a Test step lets fail). */
  async mutedNames(builderid: number): Promise<Set<string>> {
    const rows = await this.ctx.db
      .selectFrom('tests')
      .select('name')
      .where('builderid', '=', builderid)
      .where('muted_at', 'is not', null)
      .execute();
    return new Set(rows.map((r) => r.name));
  }

  /** Quarantines a test: its failures no longer fail a build. Who, when and why are kept. */
  async mute(testid: number, user: string, reason: string): Promise<void> {
    const why = reason.trim();
    if (why === '' || why.length > MAX_MUTE_REASON) throw new MuteReasonError(testid);
    await this.#setMute(testid, { muted_by: user, muted_at: this.ctx.now(), muted_reason: why });
  }

  async unmute(testid: number): Promise<void> {
    await this.#setMute(testid, { muted_by: null, muted_at: null, muted_reason: null });
  }

  async #setMute(
    testid: number,
    values: { muted_by: string | null; muted_at: number | null; muted_reason: string | null },
  ): Promise<void> {
    const test = await this.get(testid);
    if (!test) throw new NotFoundError('test', testid);
    await this.ctx.db.updateTable('tests').set(values).where('id', '=', testid).execute();
    this.ctx.bus.publish('test.quarantine', {
      testid,
      builderid: test.builderid,
      muted: values.muted_at !== null,
    });
  }
}

const numberOrNull = (v: number | null) => (v === null ? null : Number(v));

function toTestRow(r: Selectable<TestsTable>): TestRow {
  return {
    id: r.id,
    builderid: r.builderid,
    name: r.name,
    lastOutcome: r.last_outcome as Outcome,
    runs: r.runs,
    failures: r.failures,
    flakyFailures: r.flaky_failures,
    flaky: { flakyUntil: numberOrNull(r.flaky_until), passesSinceFlaky: r.passes_since_flaky },
    mutedBy: r.muted_by,
    mutedAt: numberOrNull(r.muted_at),
    mutedReason: r.muted_reason,
  };
}
