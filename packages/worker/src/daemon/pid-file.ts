/**
 * `<basedir>/worker.pid`: which process runs this worker. A pid file whose
 * process is gone, or is no longer a lathe-worker (pid reused), is stale.
 */
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

/** Whether `pid` is alive and (where /proc tells) a lathe-worker process. */
export function isWorkerProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('lathe-worker') || cmdline.includes('cli.js');
  } catch {
    return true; // no procfs: trust the pid
  }
}

/** The pid of the worker running from this pid file, if any. */
export function runningWorkerPid(path: string): number | undefined {
  const pid = readPid(path);
  return pid !== undefined && isWorkerProcess(pid) ? pid : undefined;
}

/** Claims the pid file for this process; throws if another worker holds it. */
export function claimPidFile(path: string): void {
  const other = runningWorkerPid(path);
  if (other !== undefined && other !== process.pid) {
    throw new Error(`another lathe-worker (pid ${other}) is already running here (${path})`);
  }
  writeFileSync(path, `${process.pid}\n`);
}

export function releasePidFile(path: string): void {
  if (readPid(path) === process.pid) rmSync(path, { force: true });
}
