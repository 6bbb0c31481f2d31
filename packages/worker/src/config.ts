/**
 * The worker's configuration file, `<basedir>/worker.json`, written by
 * `lathe-worker create` and read by `start`. It holds the master address and
 * the credentials (so it is created readable by its owner only), plus the
 * options of Buildbot's `create-worker` in the same spirit.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CONFIG_FILE = 'worker.json';
export const PID_FILE = 'worker.pid';
export const LOG_FILE = 'worker.log';
export const SHUTDOWN_STAMP = 'shutdown.stamp';

export interface WorkerConfig {
  masterHost: string;
  masterPort: number;
  name: string;
  password: string;
  /** Seconds between keepalives to the master; 0 disables them. */
  keepalive: number;
  /** File mode creation mask for the worker and its builds, in octal ("022"), or null to inherit. */
  umask: string | null;
  /** Longest wait between reconnection attempts, in seconds. */
  maxRetryDelay: number;
  /** Give up after this many failed connection attempts in a row; null = never. */
  maxRetries: number | null;
  /** CPUs reported to the master; null = detect. */
  numcpus: number | null;
  /** How the worker may ask the master for a graceful shutdown: SIGHUP, a touched shutdown.stamp, or not at all. */
  allowShutdown: 'signal' | 'file' | null;
  /** Connect with TLS. */
  useTls: boolean;
  /** PEM file with the CA (or the master's self-signed certificate) to trust; null = system CAs. */
  tlsCaFile: string | null;
  /** Delete directories in basedir that no builder uses. */
  deleteLeftoverDirs: boolean;
  /**
   * Kill processes a build step leaves running in its process group after it
   * ended (no orphans). Buildbot's Python worker leaves them; set false for that.
   */
  killLeftoverProcesses: boolean;
  /** Rotate worker.log at this size in bytes; 0 disables rotation. */
  logRotateLength: number;
  /** Rotated logs kept (worker.log.1 … .N). */
  maxRotatedFiles: number;
}

export const configDefaults = {
  keepalive: 600,
  umask: null,
  maxRetryDelay: 300,
  maxRetries: null,
  numcpus: null,
  allowShutdown: null,
  useTls: false,
  tlsCaFile: null,
  deleteLeftoverDirs: false,
  killLeftoverProcesses: true,
  logRotateLength: 10_000_000,
  maxRotatedFiles: 10,
} satisfies Partial<WorkerConfig>;

/** A problem with the basedir or its configuration, phrased for the person at the terminal. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly basedir: string,
  ) {
    super(message);
  }
}

/** Parses `host:port` (`[v6addr]:port` for IPv6). */
export function parseMasterAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!match || !host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`master address must be host:port with a port from 1 to 65535, not '${text}'`);
  }
  return { host, port };
}

export function configPath(basedir: string): string {
  return join(basedir, CONFIG_FILE);
}

export function writeConfig(basedir: string, config: WorkerConfig): void {
  writeFileSync(configPath(basedir), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/** Reads and checks `<basedir>/worker.json`; every problem is a ConfigError naming the file. */
export function readConfig(basedir: string): WorkerConfig {
  if (!existsSync(basedir)) throw new ConfigError(`worker directory ${basedir} does not exist`, basedir);
  if (!statSync(basedir).isDirectory()) throw new ConfigError(`${basedir} is not a directory`, basedir);
  const file = configPath(basedir);
  if (!existsSync(file)) {
    throw new ConfigError(
      `${basedir} is not a worker directory: ${CONFIG_FILE} is missing (create one with 'lathe-worker create')`,
      basedir,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(
      `${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      basedir,
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${file} must contain a JSON object`, basedir);
  }
  const c = { ...configDefaults, ...(raw as Record<string, unknown>) } as Record<string, unknown>;
  const problems: string[] = [];
  const need = (key: string, ok: boolean, what: string) => {
    if (!ok) problems.push(`'${key}' must be ${what} (found ${JSON.stringify(c[key])})`);
  };
  const isInt = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
  need('masterHost', typeof c.masterHost === 'string' && c.masterHost !== '', 'a host name');
  need('masterPort', isInt(c.masterPort, 1) && (c.masterPort as number) <= 65535, 'a port number');
  need('name', typeof c.name === 'string' && c.name !== '', 'the worker name');
  need('password', typeof c.password === 'string', 'a string');
  need('keepalive', isInt(c.keepalive, 0), 'a number of seconds (0 = off)');
  need('umask', c.umask === null || parseUmask(c.umask) !== undefined, 'null or an octal mode such as "022"');
  need(
    'maxRetryDelay',
    typeof c.maxRetryDelay === 'number' && c.maxRetryDelay >= 1,
    'a number of seconds ≥ 1',
  );
  need('maxRetries', c.maxRetries === null || isInt(c.maxRetries, 1), 'null or a positive integer');
  need('numcpus', c.numcpus === null || isInt(c.numcpus, 1), 'null or a positive integer');
  need(
    'allowShutdown',
    c.allowShutdown === null || c.allowShutdown === 'signal' || c.allowShutdown === 'file',
    "null, 'signal' or 'file'",
  );
  need('useTls', typeof c.useTls === 'boolean', 'true or false');
  need(
    'tlsCaFile',
    c.tlsCaFile === null || (typeof c.tlsCaFile === 'string' && c.tlsCaFile !== ''),
    'null or a file name',
  );
  need('deleteLeftoverDirs', typeof c.deleteLeftoverDirs === 'boolean', 'true or false');
  need('killLeftoverProcesses', typeof c.killLeftoverProcesses === 'boolean', 'true or false');
  need('logRotateLength', isInt(c.logRotateLength, 0), 'a size in bytes (0 = no rotation)');
  need('maxRotatedFiles', isInt(c.maxRotatedFiles, 0), 'a number of files');
  if (problems.length > 0)
    throw new ConfigError(`${file} is malformed:\n  ${problems.join('\n  ')}`, basedir);
  return c as unknown as WorkerConfig;
}

/** An octal umask such as "022" (or "0o022"), or undefined when it is not one. */
export function parseUmask(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const digits = value.replace(/^0o/, '');
  if (!/^[0-7]{1,4}$/.test(digits)) return undefined;
  const mask = Number.parseInt(digits, 8);
  return mask <= 0o777 ? mask : undefined;
}
