// The files of a master directory besides the config and the database. Kept in one place
// so the master process and the commands that talk to it agree on names and formats.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PID_FILE = 'lathe.pid';
export const LOG_FILE = 'lathe.log';
/** The control password: random, written by create-master, readable by the owner only. */
export const SECRET_FILE = 'control.secret';
/** Where the running master's control port is: written at start, removed at stop. */
export const CONTROL_FILE = 'control.json';

export interface MasterDir {
  readonly basedir: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly secretFile: string;
  readonly controlFile: string;
}

export function masterDir(dir: string): MasterDir {
  const basedir = resolve(dir);
  return {
    basedir,
    pidFile: join(basedir, PID_FILE),
    logFile: join(basedir, LOG_FILE),
    secretFile: join(basedir, SECRET_FILE),
    controlFile: join(basedir, CONTROL_FILE),
  };
}

export class ControlSecretError extends Error {
  override readonly name = 'ControlSecretError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

export function writeSecret(file: string): void {
  // `wx`: never overwrite a secret a running master or a client may already use.
  writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
}

export function readSecret(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ControlSecretError(
      file,
      e.code === 'ENOENT' ? 'missing (lathe create-master writes it)' : `cannot read it: ${e.message}`,
    );
  }
  if (text === '') throw new ControlSecretError(file, 'is empty');
  // Like ssh with its keys: a secret others can read is no secret.
  if ((statSync(file).mode & 0o077) !== 0)
    throw new ControlSecretError(file, `is readable by group or others; run: chmod 600 ${file}`);
  return text;
}

export interface ControlEndpoint {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
}

export function writeControlEndpoint(file: string, endpoint: ControlEndpoint): void {
  writeFileSync(file, `${JSON.stringify(endpoint)}\n`);
}

export function readControlEndpoint(file: string): ControlEndpoint | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<ControlEndpoint>;
    if (typeof v.host === 'string' && typeof v.port === 'number' && typeof v.pid === 'number')
      return { host: v.host, port: v.port, pid: v.pid };
  } catch {
    // missing or half-written: treated as "no master"
  }
  return undefined;
}

export function removeControlEndpoint(file: string, pid: number): void {
  if (readControlEndpoint(file)?.pid === pid) rmSync(file, { force: true });
}
