// Changes reported by change sources, with their files and properties.
import { sql } from 'kysely';
import type { DataContext } from './context.js';
import { batches, parseJson } from './context.js';
import { type SourceStampsData, sourceStampIdentity } from './sourcestamps.js';

export interface ChangeSpec {
  readonly author: string;
  readonly committer?: string | null;
  readonly comments?: string;
  readonly branch?: string | null;
  readonly revision?: string | null;
  readonly revlink?: string | null;
  /** Epoch seconds; defaults to now. */
  readonly when?: number;
  readonly category?: string | null;
  readonly repository?: string;
  readonly codebase?: string;
  readonly project?: string;
  readonly files?: readonly string[];
  readonly properties?: Readonly<Record<string, unknown>>;
  readonly parentChangeid?: number | null;
}

export interface ChangeRow {
  readonly id: number;
  readonly author: string;
  readonly committer: string | null;
  readonly comments: string;
  readonly branch: string | null;
  readonly revision: string | null;
  readonly revlink: string | null;
  readonly when: number;
  readonly category: string | null;
  readonly repository: string;
  readonly codebase: string;
  readonly project: string;
  readonly sourcestampid: number;
  readonly parentChangeid: number | null;
  readonly files: readonly string[];
  readonly properties: Readonly<Record<string, unknown>>;
}

/** How many of the changes it added last a master keeps at hand (`ChangesData.#recent`). */
const RECENT_CHANGES = 256;

export class ChangesData {
  constructor(
    private readonly ctx: DataContext,
    private readonly sourcestamps: SourceStampsData,
  ) {}

  async add(spec: ChangeSpec): Promise<number> {
    const { db, now } = this.ctx;
    const repository = spec.repository ?? '';
    const codebase = spec.codebase ?? '';
    const project = spec.project ?? '';
    const branch = spec.branch ?? null;
    const when = spec.when ?? now();
    // The columns as stored, and as the change's row gives them back.
    const stored = {
      author: spec.author,
      committer: spec.committer ?? null,
      comments: spec.comments ?? '',
      branch,
      revision: spec.revision ?? null,
      revlink: spec.revlink ?? null,
      category: spec.category ?? null,
      repository,
      codebase,
      project,
    };
    const { changeid, sourcestampid } =
      this.ctx.dialect === 'postgres'
        ? await this.#addInOneStatement(spec, when)
        : await db.transaction().execute(async (trx) => {
            const sourcestampid = await this.sourcestamps.findOrCreate(
              { repository, codebase, project, branch, revision: spec.revision ?? null },
              trx,
            );
            const row = await trx
              .insertInto('changes')
              .values({
                ...stored,
                when_timestamp: when,
                sourcestampid,
                parent_changeid: spec.parentChangeid ?? null,
              })
              .returning('id')
              .executeTakeFirstOrThrow();
            const files = spec.files ?? [];
            if (files.length > 0) {
              await trx
                .insertInto('change_files')
                .values(files.map((filename) => ({ changeid: row.id, filename })))
                .execute();
            }
            const props = Object.entries(spec.properties ?? {});
            if (props.length > 0) {
              await trx
                .insertInto('change_properties')
                .values(
                  props.map(([name, value]) => ({
                    changeid: row.id,
                    property_name: name,
                    property_value: JSON.stringify([value, 'Change']),
                  })),
                )
                .execute();
            }
            await trx
              .insertInto('unscheduled_changes')
              .values({ changeid: row.id, stored_at: now() })
              .execute();
            return { changeid: row.id, sourcestampid };
          });
    this.#remember({
      ...stored,
      id: changeid,
      when,
      sourcestampid,
      parentChangeid: spec.parentChangeid ?? null,
      files: [...(spec.files ?? [])],
      // As a read gives them back: stored as JSON.
      properties: Object.fromEntries(
        Object.entries(spec.properties ?? {}).map(([k, v]) => [k, JSON.parse(JSON.stringify([v]))[0]]),
      ),
    });
    this.ctx.bus.publish('change.new', { changeid, sourcestampid, branch, repository, project, codebase });
    return changeid;
  }

  /**
   * The changes this process added last, as stored (a change is never updated): the
   * schedulers of this master read each new change at once, and need not wait for the
   * database to give back what it was just given.
   */
  readonly #recent = new Map<number, ChangeRow>();

  #remember(row: ChangeRow): void {
    this.#recent.set(row.id, row);
    if (this.#recent.size > RECENT_CHANGES) this.#recent.delete(this.#recent.keys().next().value!);
  }

  /**
   * On PostgreSQL the change, its source stamp (found or created), files, properties and its
   * place among the unscheduled changes in one statement (data-modifying WITH): one round
   * trip, not a transaction's seven, before the change source can answer and the schedulers
   * hear of it. `do update` (a no-op) rather than `do nothing`: it returns the id of a stamp
   * another master committed after this statement began.
   */
  async #addInOneStatement(
    spec: ChangeSpec,
    when: number,
  ): Promise<{ changeid: number; sourcestampid: number }> {
    const now = this.ctx.now();
    const branch = spec.branch ?? null;
    const { values: stamp, ss_hash } = sourceStampIdentity({ ...spec, branch }, null);
    const props = Object.entries(spec.properties ?? {});
    const r = await sql<{ changeid: number; sourcestampid: number }>`
      with ss as (
        insert into sourcestamps (codebase, repository, project, branch, revision, patchid, ss_hash, created_at)
        values (${stamp.codebase}, ${stamp.repository}, ${stamp.project}, ${stamp.branch}, ${stamp.revision}, null,
                ${ss_hash}, ${now})
        on conflict (ss_hash) do update set ss_hash = excluded.ss_hash
        returning id),
      ch as (
        insert into changes (author, committer, comments, branch, revision, revlink, when_timestamp, category,
                             repository, codebase, project, sourcestampid, parent_changeid)
        values (${spec.author}, ${spec.committer ?? null}, ${spec.comments ?? ''}, ${branch}, ${spec.revision ?? null},
                ${spec.revlink ?? null}, ${when}, ${spec.category ?? null}, ${stamp.repository},
                ${stamp.codebase}, ${stamp.project}, (select id from ss), ${spec.parentChangeid ?? null})
        returning id, sourcestampid),
      files as (
        insert into change_files (changeid, filename)
        select ch.id, f.name from ch, unnest(${[...(spec.files ?? [])]}::text[]) with ordinality as f(name, n)
        order by f.n),
      props as (
        insert into change_properties (changeid, property_name, property_value)
        select ch.id, p.name, p.value
        from ch, unnest(${props.map(([name]) => name)}::text[],
                        ${props.map(([, value]) => JSON.stringify([value, 'Change']))}::text[]) as p(name, value)),
      unscheduled as (
        insert into unscheduled_changes (changeid, stored_at) select ch.id, ${now}::bigint from ch)
      select id as changeid, sourcestampid from ch`.execute(this.ctx.db);
    return r.rows[0]!;
  }

  /** Changes stored recently enough that the schedulers may not have seen them, oldest first. */
  async unscheduled(): Promise<number[]> {
    const rows = await this.ctx.db
      .selectFrom('unscheduled_changes')
      .select('changeid')
      .orderBy('changeid')
      .execute();
    return rows.map((r) => r.changeid);
  }

  async markScheduled(changeid: number): Promise<void> {
    await this.ctx.db.deleteFrom('unscheduled_changes').where('changeid', '=', changeid).execute();
  }

  /** Forgets rows stored before `epochSeconds`: a running master's schedulers saw those long ago. */
  async forgetUnscheduledBefore(epochSeconds: number): Promise<void> {
    await this.ctx.db.deleteFrom('unscheduled_changes').where('stored_at', '<', epochSeconds).execute();
  }

  /**
   * Whether some buildset already builds the change: its source stamp, or a newer one the
   * scheduler folded it into (a tree-stable timer's buildset lists all its changes).
   */
  async hasBuildset(changeid: number): Promise<boolean> {
    const folded = await this.ctx.db
      .selectFrom('buildset_changes')
      .select('buildsetid')
      .where('changeid', '=', changeid)
      .limit(1)
      .executeTakeFirst();
    if (folded) return true;
    const row = await this.ctx.db
      .selectFrom('changes')
      .innerJoin('buildset_sourcestamps', 'buildset_sourcestamps.sourcestampid', 'changes.sourcestampid')
      .select('buildset_sourcestamps.buildsetid')
      .where('changes.id', '=', changeid)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async get(changeid: number): Promise<ChangeRow | undefined> {
    return (await this.getMany([changeid]))[0];
  }

  /**
   * These changes with their files and properties, in the order asked for (unknown ids are
   * left out): three queries per IN_LIST_MAX changes instead of three per change, for a
   * blamelist of hundreds.
   */
  async getMany(changeids: readonly number[]): Promise<ChangeRow[]> {
    const found = new Map<number, ChangeRow>();
    const unknown: number[] = [];
    for (const id of new Set(changeids)) {
      const row = this.#recent.get(id);
      if (row) found.set(id, row);
      else unknown.push(id);
    }
    for (const batch of batches(unknown))
      for (const change of await this.#read(batch)) found.set(change.id, change);
    return changeids.flatMap((id) => found.get(id) ?? []);
  }

  async #read(ids: readonly number[]): Promise<ChangeRow[]> {
    const { db } = this.ctx;
    // The three reads at once: on PostgreSQL each is a round trip on a connection of its own
    // (a scheduler reads every new change before it can add a buildset).
    const [rows, files, props] = await Promise.all([
      db.selectFrom('changes').selectAll().where('id', 'in', ids).execute(),
      db
        .selectFrom('change_files')
        .select(['changeid', 'filename'])
        .where('changeid', 'in', ids)
        // Each change's files in the order they were added; SQLite's index gives this order.
        .orderBy('changeid')
        .orderBy('id')
        .execute(),
      db
        .selectFrom('change_properties')
        .select(['changeid', 'property_name', 'property_value'])
        .where('changeid', 'in', ids)
        .execute(),
    ]);
    if (rows.length === 0) return [];
    const filesOf = new Map<number, string[]>();
    for (const f of files) {
      const list = filesOf.get(f.changeid);
      if (list) list.push(f.filename);
      else filesOf.set(f.changeid, [f.filename]);
    }
    const propertiesOf = new Map<number, Record<string, unknown>>();
    for (const p of props) {
      const properties = propertiesOf.get(p.changeid) ?? {};
      properties[p.property_name] = parseJson<[unknown, string]>(p.property_value, [null, ''])[0];
      propertiesOf.set(p.changeid, properties);
    }
    return rows.map((row) => ({
      id: row.id,
      author: row.author,
      committer: row.committer,
      comments: row.comments,
      branch: row.branch,
      revision: row.revision,
      revlink: row.revlink,
      when: row.when_timestamp,
      category: row.category,
      repository: row.repository,
      codebase: row.codebase,
      project: row.project,
      sourcestampid: row.sourcestampid,
      parentChangeid: row.parent_changeid,
      files: filesOf.get(row.id) ?? [],
      properties: propertiesOf.get(row.id) ?? {},
    }));
  }

  /**
   * The properties of the changes in these source stamps, one record per change, oldest
   * change first (a build layers them in that order, so the newest change wins).
   */
  async propertiesOf(sourcestampids: readonly number[]): Promise<Record<string, unknown>[]> {
    if (sourcestampids.length === 0) return [];
    const rows = await this.ctx.db
      .selectFrom('changes')
      .innerJoin('change_properties', 'change_properties.changeid', 'changes.id')
      .select([
        'changes.id as changeid',
        'change_properties.property_name',
        'change_properties.property_value',
      ])
      .where('changes.sourcestampid', 'in', sourcestampids)
      .orderBy('changes.id')
      .execute();
    const byChange = new Map<number, Record<string, unknown>>();
    for (const r of rows) {
      const record = byChange.get(r.changeid) ?? {};
      record[r.property_name] = parseJson<[unknown, string]>(r.property_value, [null, ''])[0];
      byChange.set(r.changeid, record);
    }
    return [...byChange.values()];
  }

  /** Most recent change ids first; a page, never the whole table. */
  async recent(limit = 50): Promise<number[]> {
    const rows = await this.ctx.db
      .selectFrom('changes')
      .select('id')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * The changes a build built: those whose source stamp its buildset names (a scheduler
   * gives the newest change's), oldest first. Buildbot's `/builds/<id>/changes`.
   */
  async ofBuild(buildid: number): Promise<ChangeRow[]> {
    const rows = await this.ctx.db
      .selectFrom('builds')
      .innerJoin('buildrequests', 'buildrequests.id', 'builds.buildrequestid')
      .innerJoin('buildset_sourcestamps', 'buildset_sourcestamps.buildsetid', 'buildrequests.buildsetid')
      .innerJoin('changes', 'changes.sourcestampid', 'buildset_sourcestamps.sourcestampid')
      .select('changes.id')
      .where('builds.id', '=', buildid)
      .orderBy('changes.id')
      .execute();
    return this.getMany(rows.map((r) => r.id));
  }

  /** Builds that built this change's source stamp (the UI's "builds of a change"). */
  async buildIds(changeid: number): Promise<number[]> {
    const rows = await this.ctx.db
      .selectFrom('changes')
      .innerJoin('buildset_sourcestamps', 'buildset_sourcestamps.sourcestampid', 'changes.sourcestampid')
      .innerJoin('buildrequests', 'buildrequests.buildsetid', 'buildset_sourcestamps.buildsetid')
      .innerJoin('builds', 'builds.buildrequestid', 'buildrequests.id')
      .select('builds.id')
      .where('changes.id', '=', changeid)
      .orderBy('builds.id')
      .execute();
    return rows.map((r) => r.id);
  }
}
