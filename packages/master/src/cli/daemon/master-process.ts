// Which process runs a master directory: @lathe/daemon's pid files, told how a master's
// command line looks (the `lathe` launcher, or cli/main.js run directly).
import { type DaemonIdentity, isDaemonProcess, runningPid } from '@lathe/daemon';

export const MASTER_DAEMON: DaemonIdentity = { what: 'a master', cmdline: /lathe|main\.js/ };

/** The pid of the master running from this pid file, if any. */
export function runningMasterPid(pidFile: string): number | undefined {
  return runningPid(pidFile, MASTER_DAEMON);
}

/** Alive and, where /proc can tell, a master (a reused pid belongs to someone else). */
export function isMasterProcess(pid: number): boolean {
  return isDaemonProcess(pid, MASTER_DAEMON);
}
