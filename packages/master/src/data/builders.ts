// Builder identities and which masters currently run each builder.
import type { DataContext } from './context.js';
import { parseJson } from './context.js';

export interface BuilderRow {
  readonly id: number;
  readonly name: string;
  readonly description: string | null;
  readonly tags: readonly string[];
  readonly project: string | null;
}

export interface BuilderInfo {
  readonly description?: string | null;
  readonly tags?: readonly string[];
  readonly project?: string | null;
}

export class BuildersData {
  constructor(private readonly ctx: DataContext) {}

  async findOrCreate(name: string): Promise<number> {
    const { db } = this.ctx;
    const existing = await db.selectFrom('builders').select('id').where('name', '=', name).executeTakeFirst();
    if (existing) return existing.id;
    await db
      .insertInto('builders')
      .values({ name, description: null, tags: '[]', project: null })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await db
      .selectFrom('builders')
      .select('id')
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async update(builderid: number, info: BuilderInfo): Promise<void> {
    await this.ctx.db
      .updateTable('builders')
      .set({
        description: info.description ?? null,
        tags: JSON.stringify(info.tags ?? []),
        project: info.project ?? null,
      })
      .where('id', '=', builderid)
      .execute();
    const b = await this.get(builderid);
    if (b) this.ctx.bus.publish('builder.configured', { builderid, name: b.name });
  }

  async get(builderid: number): Promise<BuilderRow | undefined> {
    const row = await this.ctx.db
      .selectFrom('builders')
      .selectAll()
      .where('id', '=', builderid)
      .executeTakeFirst();
    return row && toBuilder(row);
  }

  async getByName(name: string): Promise<BuilderRow | undefined> {
    const row = await this.ctx.db
      .selectFrom('builders')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toBuilder(row);
  }

  async list(): Promise<BuilderRow[]> {
    const rows = await this.ctx.db.selectFrom('builders').selectAll().orderBy('name').execute();
    return rows.map(toBuilder);
  }

  /** Records that `masterid` runs exactly these builders (after start-up or reconfig). */
  async setMasterBuilders(masterid: number, builderids: readonly number[]): Promise<void> {
    await this.ctx.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('builder_masters').where('masterid', '=', masterid).execute();
      if (builderids.length > 0) {
        await trx
          .insertInto('builder_masters')
          .values(builderids.map((builderid) => ({ builderid, masterid })))
          .execute();
      }
    });
  }
}

function toBuilder(row: {
  id: number;
  name: string;
  description: string | null;
  tags: string;
  project: string | null;
}): BuilderRow {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    tags: parseJson<string[]>(row.tags, []),
    project: row.project,
  };
}
