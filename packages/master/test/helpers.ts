// Shared set-up for tests: real SQLite files in fresh temporary directories.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../src/bus/bus.js';
import { DataLayer } from '../src/data/index.js';
import { type Db, openAndMigrate } from '../src/db/connection.js';

export function tempDir(prefix = 'lathe-master-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TestData {
  readonly db: Db;
  readonly bus: EventBus;
  readonly data: DataLayer;
  close(): Promise<void>;
}

export async function openData(file: string, now?: () => number): Promise<TestData> {
  const db = await openAndMigrate({ url: `sqlite:${file}` });
  const bus = new EventBus({
    onHandlerError: (r) => {
      throw r.error;
    },
  });
  const data = new DataLayer(db, bus, now ? { now } : {});
  return { db, bus, data, close: () => db.close() };
}

/** A builder with one pending request for a fresh source stamp; returns the ids. */
export async function seedRequests(
  data: DataLayer,
  builderName: string,
  count: number,
  opts: { priority?: number; branch?: string; submittedAt?: number } = {},
): Promise<{ builderid: number; brids: number[] }> {
  const builderid = await data.builders.findOrCreate(builderName);
  const brids: number[] = [];
  for (let i = 0; i < count; i++) {
    const ssid = await data.sourcestamps.findOrCreate({
      repository: 'https://example.org/repo.git',
      branch: opts.branch ?? 'main',
      revision: `${builderName}-${i}-${Math.random().toString(36).slice(2)}`,
    });
    const added = await data.buildsets.add({
      sourcestampids: [ssid],
      builderids: [builderid],
      reason: 'test',
      ...(opts.priority === undefined ? {} : { priority: opts.priority }),
      ...(opts.submittedAt === undefined ? {} : { submittedAt: opts.submittedAt }),
    });
    brids.push(added.buildrequestids.get(builderid)!);
  }
  return { builderid, brids };
}
