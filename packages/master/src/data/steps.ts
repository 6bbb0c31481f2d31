// Steps of a build.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Result } from '../results.js';
import { type DataContext, forUpdate, parseJson } from './context.js';
import { NotFoundError } from './errors.js';

export interface StepRow {
  readonly id: number;
  readonly number: number;
  readonly name: string;
  readonly buildid: number;
  readonly startedAt: number | null;
  readonly completeAt: number | null;
  readonly stateString: string;
  readonly results: Result | null;
  readonly urls: readonly { name: string; url: string }[];
  readonly hidden: boolean;
}

type Row = {
  id: number;
  number: number;
  name: string;
  buildid: number;
  started_at: number | null;
  complete_at: number | null;
  state_string: string;
  results: number | null;
  urls_json: string;
  hidden: number;
};

function toStep(r: Row): StepRow {
  return {
    id: r.id,
    number: r.number,
    name: r.name,
    buildid: r.buildid,
    startedAt: r.started_at,
    completeAt: r.complete_at,
    stateString: r.state_string,
    results: r.results as Result | null,
    urls: parseJson(r.urls_json, []),
    hidden: r.hidden === 1,
  };
}

export class StepsData {
  constructor(private readonly ctx: DataContext) {}

  /**
   * Adds the build's next step (its name made unique within the build). `started`: the step
   * begins now, as `start` would record it, in the same write. `taken`: the names `add`
   * gave the build's steps so far, in order, from a caller that adds them all (a running
   * build): then one insert does, without locking the build to read its steps (a round
   * trip or four less before each step's first command; the unique constraints stay the
   * guard).
   */
  async add(
    buildid: number,
    name: string,
    options: { started?: boolean; taken?: readonly string[] } = {},
  ): Promise<{ stepid: number; number: number; name: string }> {
    const { db, dialect } = this.ctx;
    const insert = async (trx: Kysely<Database>, taken: readonly { number: number; name: string }[]) => {
      const names = new Set(taken.map((s) => s.name));
      const number = taken.reduce((m, s) => Math.max(m, s.number + 1), 0);
      let unique = name;
      for (let i = 2; names.has(unique); i++) unique = `${name}_${i}`;
      const row = await trx
        .insertInto('steps')
        .values({
          number,
          name: unique,
          buildid,
          started_at: options.started ? this.ctx.now() : null,
          complete_at: null,
          state_string: options.started ? 'running' : 'pending',
          results: null,
          urls_json: '[]',
          hidden: 0,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { stepid: row.id, number, name: unique };
    };
    const added = options.taken
      ? await insert(
          db,
          options.taken.map((n, number) => ({ number, name: n })),
        )
      : await db.transaction().execute(async (trx) => {
          await forUpdate(dialect, trx.selectFrom('builds').select('id').where('id', '=', buildid)).execute();
          const existing = await trx
            .selectFrom('steps')
            .select(['number', 'name'])
            .where('buildid', '=', buildid)
            .execute();
          return insert(trx, existing);
        });
    if (options.started) this.#publishStarted(added.stepid, { buildid, ...added });
    return added;
  }

  /** `known`, what `add` answered (and the build), saves reading the step first. */
  async start(stepid: number, known?: { buildid: number; number: number; name: string }): Promise<void> {
    const s = known ?? (await this.#require(stepid));
    const u = await this.ctx.db
      .updateTable('steps')
      .set({ started_at: this.ctx.now(), state_string: 'running' })
      .where('id', '=', stepid)
      .executeTakeFirst();
    if (u.numUpdatedRows === 0n) throw new NotFoundError('step', stepid);
    this.#publishStarted(stepid, s);
  }

  #publishStarted(stepid: number, s: { buildid: number; number: number; name: string }): void {
    this.ctx.bus.publish('step.started', { stepid, buildid: s.buildid, number: s.number, name: s.name });
  }

  async setState(stepid: number, state: string): Promise<void> {
    await this.ctx.db.updateTable('steps').set({ state_string: state }).where('id', '=', stepid).execute();
  }

  async addUrl(stepid: number, name: string, url: string): Promise<void> {
    await this.ctx.db.transaction().execute(async (trx) => {
      const s = await forUpdate(
        this.ctx.dialect,
        trx.selectFrom('steps').select('urls_json').where('id', '=', stepid),
      ).executeTakeFirst();
      if (!s) throw new NotFoundError('step', stepid);
      const urls = parseJson<{ name: string; url: string }[]>(s.urls_json, []);
      urls.push({ name, url });
      await trx
        .updateTable('steps')
        .set({ urls_json: JSON.stringify(urls) })
        .where('id', '=', stepid)
        .execute();
    });
  }

  async finish(stepid: number, results: Result, hidden = false): Promise<void> {
    const s = await this.#require(stepid);
    await this.ctx.db
      .updateTable('steps')
      .set({ results, complete_at: this.ctx.now(), hidden: hidden ? 1 : 0 })
      .where('id', '=', stepid)
      .execute();
    this.ctx.bus.publish('step.finished', { stepid, buildid: s.buildid, results });
  }

  async get(stepid: number): Promise<StepRow | undefined> {
    const r = await this.ctx.db.selectFrom('steps').selectAll().where('id', '=', stepid).executeTakeFirst();
    return r && toStep(r);
  }

  /** The steps of each of `buildids` (in number order), in one read. */
  async forBuilds(buildids: readonly number[]): Promise<Map<number, StepRow[]>> {
    const out = new Map<number, StepRow[]>(buildids.map((id) => [id, []]));
    if (buildids.length === 0) return out;
    const rows = await this.ctx.db
      .selectFrom('steps')
      .selectAll()
      .where('buildid', 'in', buildids)
      .orderBy('buildid')
      .orderBy('number')
      .execute();
    for (const r of rows) out.get(r.buildid)?.push(toStep(r));
    return out;
  }

  async forBuild(buildid: number): Promise<StepRow[]> {
    const rows = await this.ctx.db
      .selectFrom('steps')
      .selectAll()
      .where('buildid', '=', buildid)
      .orderBy('number')
      .execute();
    return rows.map(toStep);
  }

  async #require(stepid: number): Promise<StepRow> {
    const s = await this.get(stepid);
    if (!s) throw new NotFoundError('step', stepid);
    return s;
  }
}
