/** The answer to `getWorkerInfo`: what the master stores and shows about this worker. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { commandVersions } from '../commands/registry.js';
import { WORKER_VERSION } from '../version.js';

export interface WorkerInfoOptions {
  basedir: string;
  numcpus?: number | null;
  deleteLeftoverDirs?: boolean;
  environment?: NodeJS.ProcessEnv;
  osReleaseFile?: string;
}

export function workerInfo(options: WorkerInfoOptions): Record<string, unknown> {
  const info: Record<string, unknown> = {};
  const infoDir = join(options.basedir, 'info');
  if (existsSync(infoDir)) {
    for (const name of readdirSync(infoDir)) {
      const path = join(infoDir, name);
      if (statSync(path).isFile()) info[name] = readFileSync(path, 'utf8');
    }
  }
  Object.assign(info, osRelease(options.osReleaseFile ?? '/etc/os-release'));
  const environ: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.environment ?? process.env))
    if (v !== undefined) environ[k] = v;
  info.environ = environ;
  info.system = 'posix';
  info.basedir = options.basedir;
  info.numcpus = options.numcpus ?? Math.max(1, cpus().length);
  info.version = WORKER_VERSION;
  info.worker_commands = commandVersions();
  info.delete_leftover_dirs = options.deleteLeftoverDirs ?? false;
  return info;
}

/** `os_<field>` for every non-empty field of os-release, quotes stripped. */
export function osRelease(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return out;
  }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const value = line.slice(eq + 1);
    if (value) out[`os_${line.slice(0, eq).toLowerCase()}`] = value.replace(/^"+|"+$/g, '');
  }
  return out;
}
