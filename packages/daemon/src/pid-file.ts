// `<basedir>/<name>.pid`: which process runs a daemon. A pid file whose process is gone, or
// is no longer such a daemon (the pid was reused by another program), is stale and ignored.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/** Which daemon a pid file belongs to. */
export interface DaemonIdentity {
  /** How errors name it: "a master", "a lathe-worker". */
  readonly what: string;
  /** Matches the command line (`/proc/<pid>/cmdline`) of such a daemon. */
  readonly cmdline: RegExp;
}

export function readPid(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
  const pid = Number(text);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A daemon that exited but whose new parent has not reaped it yet still answers
  // kill(0); it has stopped all the same.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs: trust kill(0)
  }
}

/** Alive and, where /proc can tell, running such a daemon (a reused pid belongs to someone else). */
export function isDaemonProcess(pid: number, daemon: DaemonIdentity): boolean {
  if (pid === process.pid) return true; // a daemon run in-process (tests, embedding)
  if (!isAlive(pid)) return false;
  try {
    return daemon.cmdline.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no procfs: trust the pid
  }
}

/** The pid of the daemon running from this pid file, if any. */
export function runningPid(path: string, daemon: DaemonIdentity): number | undefined {
  const pid = readPid(path);
  return pid !== undefined && isDaemonProcess(pid, daemon) ? pid : undefined;
}

export class AlreadyRunningError extends Error {
  override readonly name = 'AlreadyRunningError';
  constructor(
    readonly pid: number,
    readonly pidFile: string,
    what: string,
  ) {
    super(`${what} is already running here (pid ${pid}, ${pidFile})`);
  }
}

/** Claims the pid file for this process, replacing a stale one; AlreadyRunningError if it is not stale. */
export function claimPidFile(path: string, daemon: DaemonIdentity): void {
  const other = runningPid(path, daemon);
  if (other !== undefined && other !== process.pid) throw new AlreadyRunningError(other, path, daemon.what);
  writeFileSync(path, `${process.pid}\n`);
}

/** Removes the pid file if this process holds it. */
export function releasePidFile(path: string): void {
  if (readPid(path) === process.pid) rmSync(path, { force: true });
}
