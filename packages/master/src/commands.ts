// What the `lathe` CLI's offline commands do, as functions: the CLI (src/cli/) only
// parses arguments and prints. Both read the config so they use the database it names.
import { resolve } from 'node:path';
import { ConfigError, formatIssue } from './config/errors.js';
import { loadConfig } from './config/loader.js';
import type { ResolvedConfig } from './config/types.js';
import { migrateToLatest, openDatabase } from './db/connection.js';
import { DEFAULT_CONFIG_FILE } from './master.js';

export type CheckConfigResult =
  | { readonly ok: true; readonly config: ResolvedConfig }
  | { readonly ok: false; readonly problems: readonly string[] };

/** `lathe checkconfig`: loads, type-checks and validates without touching the database. */
export async function checkConfig(
  basedir: string,
  configFile = DEFAULT_CONFIG_FILE,
): Promise<CheckConfigResult> {
  try {
    const { config } = await loadConfig(resolve(basedir, configFile), { typecheck: true });
    return { ok: true, config };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, problems: err.issues.map(formatIssue) };
    throw err;
  }
}

/** `lathe upgrade-master`: brings the configured database's schema up to date. */
export async function upgradeMaster(
  basedir: string,
  configFile = DEFAULT_CONFIG_FILE,
): Promise<{ readonly database: string; readonly applied: readonly string[] }> {
  const { config } = await loadConfig(resolve(basedir, configFile));
  const db = openDatabase({ url: config.dbUrl, basedir: resolve(basedir) });
  try {
    return { database: db.location, applied: await migrateToLatest(db) };
  } finally {
    await db.close();
  }
}
