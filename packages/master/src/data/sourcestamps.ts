// Source stamps: what to build. Equal stamps share one row (found by a hash of their
// identity), as in Buildbot, so "builds of this revision" is a single index lookup.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { DataContext } from './context.js';

export interface SourceStampSpec {
  readonly codebase?: string;
  readonly repository?: string;
  readonly project?: string;
  readonly branch?: string | null;
  readonly revision?: string | null;
  readonly patch?: {
    readonly level: number;
    readonly body: string | Uint8Array;
    readonly author?: string;
    readonly comment?: string;
    readonly subdir?: string;
  };
}

export interface SourceStampPatch {
  readonly level: number;
  readonly body: Buffer;
  readonly author: string | null;
  readonly comment: string | null;
  readonly subdir: string | null;
}

export interface SourceStampRow {
  readonly id: number;
  readonly codebase: string;
  readonly repository: string;
  readonly project: string;
  readonly branch: string | null;
  readonly revision: string | null;
  readonly patchid: number | null;
}

/** A stamp's columns and the hash equal stamps share (its `ss_hash`). */
export function sourceStampIdentity(spec: SourceStampSpec, patchid: number | null) {
  const values = {
    codebase: spec.codebase ?? '',
    repository: spec.repository ?? '',
    project: spec.project ?? '',
    branch: spec.branch ?? null,
    revision: spec.revision ?? null,
    patchid,
  };
  return { values, ss_hash: createHash('sha1').update(JSON.stringify(values)).digest('hex') };
}

export class SourceStampsData {
  constructor(private readonly ctx: DataContext) {}

  async findOrCreate(spec: SourceStampSpec, db: Kysely<Database> = this.ctx.db): Promise<number> {
    let patchid: number | null = null;
    if (spec.patch) {
      // Patched stamps are never shared: each try-job upload is its own source.
      const p = await db
        .insertInto('patches')
        .values({
          patchlevel: spec.patch.level,
          patch_base64: Buffer.from(spec.patch.body).toString('base64'),
          patch_author: spec.patch.author ?? null,
          patch_comment: spec.patch.comment ?? null,
          subdir: spec.patch.subdir ?? null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      patchid = p.id;
    }
    const { values, ss_hash } = sourceStampIdentity(spec, patchid);
    await db
      .insertInto('sourcestamps')
      .values({ ...values, ss_hash, created_at: this.ctx.now() })
      .onConflict((oc) => oc.column('ss_hash').doNothing())
      .execute();
    const row = await db
      .selectFrom('sourcestamps')
      .select('id')
      .where('ss_hash', '=', ss_hash)
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** The patch a source stamp carries (a try job's), or null. */
  async patch(ssid: number): Promise<SourceStampPatch | null> {
    const row = await this.ctx.db
      .selectFrom('sourcestamps as ss')
      .innerJoin('patches as p', 'p.id', 'ss.patchid')
      .select(['p.patchlevel', 'p.patch_base64', 'p.patch_author', 'p.patch_comment', 'p.subdir'])
      .where('ss.id', '=', ssid)
      .executeTakeFirst();
    if (!row) return null;
    return {
      level: row.patchlevel,
      body: Buffer.from(row.patch_base64, 'base64'),
      author: row.patch_author,
      comment: row.patch_comment,
      subdir: row.subdir,
    };
  }

  async get(ssid: number): Promise<SourceStampRow | undefined> {
    const row = await this.ctx.db
      .selectFrom('sourcestamps')
      .select(['id', 'codebase', 'repository', 'project', 'branch', 'revision', 'patchid'])
      .where('id', '=', ssid)
      .executeTakeFirst();
    return row && { ...row };
  }
}
