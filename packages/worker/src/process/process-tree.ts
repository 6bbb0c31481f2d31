/**
 * Killing a command means killing everything it started. Each command runs as
 * the leader of its own process group (spawned `detached`), so one `kill(-pgid)`
 * reaches every process that stayed in the group. Programs that start their own
 * session (daemons, `setsid`, the child of `script` for PTYs) leave the group, so
 * on Linux the worker also walks /proc for descendants and signals them one by
 * one. The descendants are collected before any signal is sent: once a parent
 * dies, its children are re-parented and can no longer be found.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** All descendants of `rootPid` (children, grandchildren, …), from /proc. */
export function descendantsOf(rootPid: number): number[] {
  const childrenOf = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return []; // no procfs: the process group has to do
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = parentOf(entry);
    if (ppid === undefined) continue;
    const list = childrenOf.get(ppid);
    if (list) list.push(Number(entry));
    else childrenOf.set(ppid, [Number(entry)]);
  }
  const out: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    for (const child of childrenOf.get(pid) ?? []) {
      if (out.includes(child)) continue;
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function parentOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name is in parentheses and may itself contain ') '.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined; // exited while we looked
  }
}

/**
 * Sends `signal` to the process group led by `pgid` and to every descendant of
 * `pgid` found in /proc. Returns whether any process was signalled.
 */
export function killProcessTree(pgid: number, signal: number): boolean {
  const descendants = descendantsOf(pgid);
  let hit = trySignal(-pgid, signal);
  if (!hit) hit = trySignal(pgid, signal);
  for (const pid of descendants) {
    if (trySignal(pid, signal)) hit = true;
  }
  return hit;
}

/** Sends `signal` to the process group led by `pgid`; whether any member was signalled. */
export function killProcessGroup(pgid: number, signal: number): boolean {
  return trySignal(-pgid, signal);
}

/** Whether a process group still has members. */
export function processGroupExists(pgid: number): boolean {
  return trySignal(-pgid, 0);
}

function trySignal(pid: number, signal: number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false; // ESRCH: already gone; EPERM: not ours
  }
}
