/**
 * Process bookkeeping for the Buildbot harness: every process it starts gets a marker
 * variable in its environment (inherited by build steps the worker runs), runs in its
 * own process group, and writes its output to a file. `ProcessSet.closeAll()` stops
 * the long-running ones (SIGTERM to the group, then SIGKILL) and then kills anything
 * left in /proc whose environment carries the marker, so no orphan survives even when
 * a worker lost track of a build process. If this Node process exits or gets SIGINT,
 * SIGTERM or SIGHUP first, everything is SIGKILLed synchronously.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

export const MARKER_VAR = 'LATHE_HARNESS_RUN';

export interface Managed {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Output of the process (stdout and stderr). */
  readonly logPath: string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  exit: number | string | undefined;
}

export interface RunResult {
  code: number | string;
  stdout: string;
  stderr: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Is `pid` a live (non-zombie) process? */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Pids of the processes whose environment contains `name=value`. */
export function pidsWithEnv(name: string, value: string): number[] {
  const needle = Buffer.from(`${name}=${value}\0`);
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`);
      if (env.indexOf(needle) >= 0 && isAlive(pid)) out.push(pid);
    } catch {
      // vanished or not ours
    }
  }
  return out;
}

/** Live sets, killed synchronously when this process exits or is told to stop by a signal. */
const live = new Set<ProcessSet>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function killLiveSync(): void {
  for (const set of live) set.killAllSync();
}

function onSignal(signal: NodeJS.Signals): void {
  killLiveSync();
  // then die of the signal as if we had not caught it
  for (const s of SIGNALS) process.off(s, onSignal);
  process.kill(process.pid, signal);
}

function track(set: ProcessSet): void {
  if (live.size === 0) {
    process.on('exit', killLiveSync);
    for (const s of SIGNALS) process.on(s, onSignal);
  }
  live.add(set);
}

function untrack(set: ProcessSet): void {
  live.delete(set);
  if (live.size === 0) {
    process.off('exit', killLiveSync);
    for (const s of SIGNALS) process.off(s, onSignal);
  }
}

export class ProcessSet {
  readonly runId: string;
  private readonly managed: Managed[] = [];

  constructor(runId: string) {
    this.runId = runId;
    track(this);
  }

  /** `base` plus the marker variable. */
  env(base: Record<string, string>): Record<string, string> {
    return { ...base, [MARKER_VAR]: this.runId };
  }

  /** Starts a long-running process in its own process group, output to `logPath`. */
  start(
    name: string,
    cmd: string,
    args: string[],
    opts: { cwd: string; env: Record<string, string>; logPath: string },
  ): Managed {
    const fd = openSync(opts.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, {
        cwd: opts.cwd,
        env: this.env(opts.env),
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`cannot start ${name}: ${cmd}`);
    const m: Managed = {
      name,
      child,
      pid: child.pid,
      logPath: opts.logPath,
      exit: undefined,
      exited: new Promise((resolve) => {
        child.on('error', () => resolve('spawn-error'));
        child.on('exit', (code, signal) => {
          m.exit = code ?? signal ?? 'unknown';
          resolve(m.exit);
        });
      }),
    };
    this.managed.push(m);
    return m;
  }

  /** Runs a short command to completion (killed after `timeoutMs`), capturing output. */
  run(
    cmd: string,
    args: string[],
    opts: { cwd: string; env: Record<string, string>; timeoutMs?: number; input?: string },
  ): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, {
        cwd: opts.cwd,
        env: this.env(opts.env),
        detached: true,
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on('data', (b: Buffer) => out.push(b));
      child.stderr!.on('data', (b: Buffer) => err.push(b));
      if (child.stdin) {
        child.stdin.on('error', () => {}); // the command may exit without reading
        child.stdin.end(opts.input);
      }
      const timer = setTimeout(() => {
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      }, opts.timeoutMs ?? 60_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({
          code: code ?? signal ?? 'unknown',
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      });
    });
  }

  /** Like run(), but rejects with the output when the exit status is not 0. */
  async check(
    cmd: string,
    args: string[],
    opts: { cwd: string; env: Record<string, string>; timeoutMs?: number; input?: string },
  ): Promise<string> {
    const r = await this.run(cmd, args, opts);
    if (r.code !== 0) {
      throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}\n${r.stdout}${r.stderr}`);
    }
    return r.stdout;
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`. */
  async stop(m: Managed, graceMs = 5000): Promise<void> {
    if (m.exit !== undefined) {
      signalGroup(m.pid, 'SIGKILL'); // the leader is gone; make sure its group is too
      return;
    }
    signalGroup(m.pid, 'SIGTERM');
    const killed = await Promise.race([m.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!killed) {
      signalGroup(m.pid, 'SIGKILL');
      await Promise.race([m.exited, sleep(5000)]);
    }
    signalGroup(m.pid, 'SIGKILL');
  }

  /** Stops everything started here (last first), then kills stragglers carrying the marker. */
  async closeAll(): Promise<number[]> {
    for (const m of [...this.managed].reverse()) await this.stop(m);
    const stragglers = await this.sweep();
    untrack(this);
    return stragglers;
  }

  /** SIGKILLs every live process with the marker; returns their pids. */
  async sweep(): Promise<number[]> {
    const found = new Set<number>();
    for (let round = 0; round < 10; round++) {
      const pids = pidsWithEnv(MARKER_VAR, this.runId);
      if (pids.length === 0) break;
      for (const pid of pids) {
        found.add(pid);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await sleep(100);
    }
    return [...found];
  }

  /** SIGKILLs everything at once, synchronously (exit and signal handlers). */
  killAllSync(): void {
    for (const m of this.managed) signalGroup(m.pid, 'SIGKILL');
    try {
      for (const pid of pidsWithEnv(MARKER_VAR, this.runId)) process.kill(pid, 'SIGKILL');
    } catch {
      // best effort at exit
    }
  }
}
