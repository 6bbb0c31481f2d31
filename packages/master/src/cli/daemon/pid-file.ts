// `<basedir>/lathe.pid`: which process runs this master. A pid file whose process is gone,
// or is no longer a lathe master (the pid was reused), is stale and ignored.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

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

/** Alive and, where /proc can tell, running our CLI (a reused pid belongs to someone else). */
export function isMasterProcess(pid: number): boolean {
  if (pid === process.pid) return true; // a master run in-process (tests, embedding)
  if (!isAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /lathe|main\.js/.test(cmdline);
  } catch {
    return true; // no procfs: trust the pid
  }
}

export function runningMasterPid(path: string): number | undefined {
  const pid = readPid(path);
  return pid !== undefined && isMasterProcess(pid) ? pid : undefined;
}

export class AlreadyRunningError extends Error {
  override readonly name = 'AlreadyRunningError';
  constructor(
    readonly pid: number,
    readonly pidFile: string,
  ) {
    super(`a master is already running here (pid ${pid}, ${pidFile})`);
  }
}

/** Claims the pid file for this process, replacing a stale one. */
export function claimPidFile(path: string): void {
  const other = runningMasterPid(path);
  if (other !== undefined && other !== process.pid) throw new AlreadyRunningError(other, path);
  writeFileSync(path, `${process.pid}\n`);
}

export function releasePidFile(path: string): void {
  if (readPid(path) === process.pid) rmSync(path, { force: true });
}
