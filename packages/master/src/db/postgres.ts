// PostgreSQL through `pg` and Kysely's PostgresDialect, made to answer as the SQLite
// driver does: integers as numbers, blobs as Buffers (Uint8Array), and a connection that
// cannot be made reported once, with the URL's password replaced.
import { type Dialect, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { DatabaseConnectError } from './errors.js';

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** The URL as it may appear in logs and messages: any password replaced by `***`. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '' && !u.searchParams.has('password')) return url;
    if (u.password !== '') u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.toString();
  } catch {
    // Not parseable as a URL: hide whatever sits between "//user:" and "@".
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * bigint (epoch seconds, count(*)) and numeric (sum()) come back from pg as strings so that
 * no precision is lost; every such value Lathe stores or counts is far below 2^53, so they
 * are numbers here, as node:sqlite returns them.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (text: string) => Number(text);
    return pg.types.getTypeParser(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

/** What the server's refusal or silence means, in words for the operator. */
function explain(err: unknown): string {
  const e = err as { code?: string; message?: string } | null;
  switch (e?.code) {
    case '28P01':
    case '28000':
      return `authentication failed (${e.message})`;
    case '3D000':
      return `the database does not exist (${e.message})`;
    case 'ECONNREFUSED':
      return 'connection refused: is the server running and listening there?';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name could not be resolved (${e.code})`;
    case 'ETIMEDOUT':
      return 'the connection timed out';
    default:
      return e?.message ?? String(err);
  }
}

export interface PostgresOptions {
  readonly url: string;
  /** Connections the master may hold at once. */
  readonly maxConnections?: number;
  readonly connectTimeoutMs?: number;
}

/** A pool whose connection errors name the (redacted) server and the reason. */
function connectingPool(options: PostgresOptions): PostgresPool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // Idle connections do not keep the process alive (a CLI command, a stopped master).
    allowExitOnIdle: true,
    types,
  });
  // An idle connection the server closed (a restart) is dropped from the pool by pg and
  // the next query opens a new one; without a listener the event would end the process.
  pool.on('error', () => {});
  const location = redactDatabaseUrl(options.url);
  return {
    async connect(): Promise<PostgresPoolClient> {
      try {
        return (await pool.connect()) as unknown as PostgresPoolClient;
      } catch (err) {
        throw new DatabaseConnectError(location, explain(err), err);
      }
    },
    end: () => pool.end(),
    options: pool.options,
    // What Kysely cancels a running query with.
    Client: pg.Client as unknown as PostgresPool['Client'],
  };
}

/** Stops listening and closes the connection. */
export type StopListening = () => Promise<void>;

/**
 * LISTENs on `channel` on a connection of its own (a pooled one would be handed to other
 * queries and may be closed when idle). `onNotify` gets each notification's payload;
 * `onLost` is called once if the connection breaks, after which nothing more arrives.
 */
export async function listenPostgres(
  url: string,
  channel: string,
  onNotify: (payload: string) => void,
  onLost: (err: Error) => void,
): Promise<StopListening> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, types });
  let stopping = false;
  let lost = false;
  const lose = (err: Error) => {
    if (stopping || lost) return;
    lost = true;
    onLost(err);
  };
  client.on('notification', (n) => {
    if (n.channel === channel) onNotify(n.payload ?? '');
  });
  client.on('error', lose);
  client.on('end', () => lose(new Error('the connection was closed')));
  try {
    await client.connect();
    await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
  } catch (err) {
    stopping = true;
    await client.end().catch(() => {});
    throw new DatabaseConnectError(redactDatabaseUrl(url), explain(err), err);
  }
  return async () => {
    stopping = true;
    await client.end().catch(() => {});
  };
}

export function postgresDialect(options: PostgresOptions): Dialect {
  // The cursor serves Kysely's `.stream()` (what `lathe copy-db` reads a table with).
  return new PostgresDialect({ pool: connectingPool(options), cursor: Cursor });
}
