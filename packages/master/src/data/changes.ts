// Changes reported by change sources, with their files and properties.
import type { DataContext } from './context.js';
import { parseJson } from './context.js';
import type { SourceStampsData } from './sourcestamps.js';

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
    const { changeid, sourcestampid } = await db.transaction().execute(async (trx) => {
      const sourcestampid = await this.sourcestamps.findOrCreate(
        { repository, codebase, project, branch, revision: spec.revision ?? null },
        trx,
      );
      const row = await trx
        .insertInto('changes')
        .values({
          author: spec.author,
          committer: spec.committer ?? null,
          comments: spec.comments ?? '',
          branch,
          revision: spec.revision ?? null,
          revlink: spec.revlink ?? null,
          when_timestamp: spec.when ?? now(),
          category: spec.category ?? null,
          repository,
          codebase,
          project,
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
      await trx.insertInto('unscheduled_changes').values({ changeid: row.id, stored_at: now() }).execute();
      return { changeid: row.id, sourcestampid };
    });
    this.ctx.bus.publish('change.new', { changeid, sourcestampid, branch, repository, project, codebase });
    return changeid;
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
    const { db } = this.ctx;
    const row = await db.selectFrom('changes').selectAll().where('id', '=', changeid).executeTakeFirst();
    if (!row) return undefined;
    const files = await db
      .selectFrom('change_files')
      .select('filename')
      .where('changeid', '=', changeid)
      .execute();
    const props = await db
      .selectFrom('change_properties')
      .select(['property_name', 'property_value'])
      .where('changeid', '=', changeid)
      .execute();
    const properties: Record<string, unknown> = {};
    for (const p of props)
      properties[p.property_name] = parseJson<[unknown, string]>(p.property_value, [null, ''])[0];
    return {
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
      files: files.map((f) => f.filename),
      properties,
    };
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
    const changes: ChangeRow[] = [];
    for (const r of rows) {
      const change = await this.get(r.id);
      if (change) changes.push(change);
    }
    return changes;
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
