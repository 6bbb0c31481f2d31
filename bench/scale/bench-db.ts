// The database the scale benchmark's masters share, and how the benchmark reads it from
// outside: a fresh SQLite file, or a fresh database on a throwaway PostgreSQL server
// (scripts/postgres-cluster.mjs, started once per run).
import { join } from 'node:path';
import pg from 'pg';
import { startCluster } from '../../scripts/postgres-cluster.mjs';
import { queryState } from '../master/common.ts';

export type Engine = 'sqlite' | 'postgres';

export interface BenchDb {
  /** What the masters' `db.url` says. */
  readonly url: string;
  rows<T>(sql: string): Promise<T[]>;
  /** The first row's `n` (a `count(*) AS n` or a sum), as a number. */
  number(sql: string): Promise<number>;
  close(): Promise<void>;
}

/** Makes fresh databases on one engine; `stop()` ends the PostgreSQL server. */
export interface BenchDbs {
  fresh(dir: string, label: string): Promise<BenchDb>;
  stop(): void;
}

export async function benchDbs(engine: Engine): Promise<BenchDbs> {
  if (engine === 'sqlite') {
    return {
      async fresh(dir) {
        const file = join(dir, 'shared.sqlite');
        return {
          url: `sqlite:${file}`,
          rows: async <T>(sql: string) => queryState<T>(file, sql),
          number: async (sql) => Number(queryState<{ n: number }>(file, sql)[0]?.n ?? 0),
          close: async () => {},
        };
      },
      stop() {},
    };
  }
  const server = (await startCluster()) as { url: string; stop(): void };
  process.once('exit', () => server.stop());
  let n = 0;
  return {
    async fresh(_dir, label) {
      const name = `lathe_scale_${label.replace(/\W/g, '_')}_${++n}`;
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await admin.query(`create database "${name}"`);
      await admin.end();
      const u = new URL(server.url);
      u.pathname = `/${name}`;
      const client = new pg.Client({ connectionString: u.toString() });
      await client.connect();
      const rows = async <T>(sql: string) => (await client.query(sql)).rows as T[];
      return {
        url: u.toString(),
        rows,
        number: async (sql) => Number((await rows<{ n: unknown }>(sql))[0]?.n ?? 0),
        close: () => client.end(),
      };
    },
    stop: () => server.stop(),
  };
}
