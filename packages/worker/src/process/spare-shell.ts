/**
 * A spare shell: the next command runs in a process forked before it was asked for.
 *
 * Why: `spawn()` forks the worker, and fork copies the page tables of a Node.js process of
 * tens of MB. That costs milliseconds on bare metal and several times more under
 * virtualisation that traps page-table updates, and it sits right between the master's
 * `startCommand` and the command running. A spare `/bin/sh -s`, forked while the worker was
 * idle, waits on its standard input; taking it costs one write: a script that changes to the
 * working directory, sets exactly the command's environment and `exec`s the program, which
 * then *is* that process (same pid, process group and output pipes; its stdin is the pipe
 * passed as fd 3). The fork of the next spare happens once the command is under way.
 *
 * Taken only where the result cannot differ from `spawn()`: `/bin/sh` is dash (whose own
 * exports are known: `cd` sets PWD and OLDPWD), every environment name is one a shell can
 * set, PATH is set, the working directory exists and the program resolves to an executable
 * file (a missing or unrunnable program goes through `spawn()`, whose error the worker
 * reports as buildbot-worker does). Everything else, and a second command while the spare
 * is taken, uses `spawn()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { realpathSync, statSync } from 'node:fs';
import type { Socket } from 'node:net';
import { basename, resolve } from 'node:path';
import { findProgram } from './find-program.js';
import { shellQuoteArg } from './shell-quote.js';

export interface SpareShellSpawn {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

const SHELL = '/bin/sh';
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

let shellIsDash: boolean | undefined;
let spare: ChildProcess | null = null;

function dashAvailable(): boolean {
  if (shellIsDash === undefined) {
    try {
      shellIsDash = process.platform !== 'win32' && basename(realpathSync(SHELL)) === 'dash';
    } catch {
      shellIsDash = false;
    }
  }
  return shellIsDash;
}

/**
 * How long after a command started the next spare is forked: the fork takes both cores'
 * attention for milliseconds, and right away it would compete with the command's own start.
 */
const SPARE_DELAY_MS = 25;
let spareTimer: NodeJS.Timeout | null = null;

/** Forks a spare shell a little later, if there is none by then (after each command's start). */
export function prepareSpareShellSoon(): void {
  if (spareTimer || spare) return;
  spareTimer = setTimeout(() => {
    spareTimer = null;
    prepareSpareShell();
  }, SPARE_DELAY_MS);
  spareTimer.unref();
}

/** Forks a spare shell if there is none (call when the worker has a moment). */
export function prepareSpareShell(): void {
  if (spare || !dashAvailable()) return;
  let child: ChildProcess;
  try {
    // `detached`: the command it becomes leads its own process group, as spawn() gives it.
    child = spawn(SHELL, ['-s'], { env: {}, detached: true, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  } catch {
    return;
  }
  child.on('error', () => {
    if (spare === child) spare = null;
  });
  child.on('exit', () => {
    if (spare === child) spare = null;
  });
  child.stdin?.on('error', () => {
    // It went away; its 'exit' forgets it.
  });
  // An idle spare must not keep the worker's event loop alive.
  child.unref();
  for (const stream of child.stdio) (stream as { unref?: () => void } | null)?.unref?.();
  spare = child;
}

/**
 * The spare shell running `spec`, or null when `spec` must go through `spawn()`. The child's
 * `stdin` is the command's standard input.
 */
export function takeSpareShell(spec: SpareShellSpawn): ChildProcess | null {
  const child = spare;
  if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return null;
  if (!suitable(spec)) return null;
  spare = null;
  child.ref();
  for (const stream of child.stdio) (stream as { ref?: () => void } | null)?.ref?.();
  const control = child.stdin!;
  // Our end of fd 3 is the command's stdin: once written and ended it is closed, so (as
  // with spawn()'s stdin) it is not among the streams the child's 'close' waits for.
  const stdin = child.stdio[3] as Socket;
  stdin.once('finish', () => stdin.destroy());
  child.stdin = stdin;
  control.end(script(spec));
  return child;
}

/** The pid of the spare shell waiting, if one is (for tests). */
export function spareShellPid(): number | null {
  return spare?.pid ?? null;
}

/**
 * Ends the spare (the worker is stopping). One forked later by a command that is still
 * starting ends by itself when the worker exits: its stdin, our pipe, reaches end of file.
 */
export function closeSpareShells(): void {
  if (spareTimer) clearTimeout(spareTimer);
  spareTimer = null;
  spare?.kill('SIGKILL');
  spare = null;
}

function suitable(spec: SpareShellSpawn): boolean {
  const path = spec.env.PATH;
  if (path === undefined) return false; // dash and execvp() disagree on the default
  // spawn() refuses a NUL byte with an error the worker reports; a shell would cut the text.
  if ([spec.file, ...spec.args].some((a) => a.includes('\0'))) return false;
  for (const [name, value] of Object.entries(spec.env))
    if (!SHELL_NAME.test(name) || value.includes('\0')) return false;
  try {
    if (!statSync(spec.cwd).isDirectory()) return false;
  } catch {
    return false;
  }
  return findProgram(spec.file, path, spec.cwd) !== null;
}

/**
 * `cd` first: dash's `cd` exports PWD and OLDPWD, so the environment is set after it and
 * OLDPWD is unset unless the command has one. `exec` with redirections gives the program
 * the command's stdin (fd 3) and closes fd 3.
 */
function script(spec: SpareShellSpawn): string {
  const lines = [`cd -- ${shellQuoteArg(resolve(spec.cwd))} || exit 126`, 'unset OLDPWD PWD'];
  for (const [name, value] of Object.entries(spec.env)) lines.push(`export ${name}=${shellQuoteArg(value)}`);
  const argv = [spec.file, ...spec.args].map(shellQuoteArg).join(' ');
  lines.push(`exec 0<&3 3<&- ${argv}`);
  return `${lines.join('\n')}\n`;
}
