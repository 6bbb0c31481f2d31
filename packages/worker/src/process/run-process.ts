/**
 * Runs one build process the way buildbot-worker's RunProcess does and reports
 * it with the same updates: the header block, output as it arrives, `log`
 * updates for watched log files, and at the end `rc` and `elapsedTime`.
 *
 * Process hygiene: the process leads its own process group; a kill (interrupt,
 * timeout without output, maxTime) signals the whole tree, with SIGTERM first
 * when `sigtermTime` is set; processes left in the group after the command
 * ended are killed too, so a build never leaves orphans behind. Node.js reaps
 * every child it spawned, so there are no zombies.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FlowControl } from '../commands/command.js';
import { errnoInfo } from '../protocol/errno.js';
import { AbandonChainError, BadArgsError, KillFailedError, toWorkerFailure } from '../protocol/failure.js';
import { pyRepr, pyStr, reprText } from '../protocol/pyrepr.js';
import { asNumber, isPlainObject, tuple, type Update } from '../protocol/values.js';
import { pyJoin } from '../util/pypath.js';
import { buildEnvironment } from './environment.js';
import { findProgram } from './find-program.js';
import { LogfileWatcher } from './logfile-watcher.js';
import { killProcessGroup, killProcessTree } from './process-tree.js';
import { shellQuote } from './shell-quote.js';
import { signalNumber, signalNumberOf } from './signals.js';
import { closeSpareShells, prepareSpareShellSoon, takeSpareShell } from './spare-shell.js';

/** One argv item: text, or `('obfuscated', real, shown)` to hide secrets in logs. */
export type CommandItem = string | readonly unknown[];

export interface RunProcessOptions {
  /** Back-pressure: output reading pauses while the master is behind. */
  flow?: FlowControl;
  /** An argv list (run directly) or a string (run by `/bin/sh -c`). */
  command: string | readonly CommandItem[];
  /** Working directory; created when missing. */
  workdir: string;
  /** Receives the updates; batching is the caller's business. */
  sendUpdate: (updates: Update[]) => void;
  /** The `env` argument of `shell`, unvalidated. */
  env?: unknown;
  sendStdout?: boolean;
  sendStderr?: boolean;
  /** Whether to send `rc` (and the "killed by signal" header); helpers of rmdir/cpdir don't. */
  sendRC?: boolean;
  /** Seconds without output before the process is killed. */
  timeout?: number | null;
  /** Seconds in total before the process is killed. */
  maxTime?: number | null;
  /** When killing, send SIGTERM and wait this many seconds before `interruptSignal`. */
  sigtermTime?: number | null;
  initialStdin?: string | null;
  logEnviron?: boolean;
  /** name → filename, or name → `{filename, follow}`; paths relative to workdir. */
  logfiles?: Record<string, unknown>;
  usePTY?: boolean;
  /** Signal name without `SIG`; default `KILL`. */
  interruptSignal?: string;
  /** The worker's environment (what `${VAR}` expands from); default `process.env`. */
  workerEnv?: NodeJS.ProcessEnv;
  /** How long to wait for a killed process to go away before giving up (default 5 s). */
  killGraceMs?: number;
  /** Log file polling interval (default 2 s). */
  logfilePollMs?: number;
  /** Kill processes still in the group once the command has exited (default true). */
  killLeftovers?: boolean;
}

const utf8 = new TextEncoder();

/** Every process group started and not yet ended, so the worker can kill them all on exit. */
const liveProcessGroups = new Set<number>();

/**
 * Kills every process tree a command started and that is still running. The
 * worker calls this on its way out, so even commands that were being stopped
 * gently (sigtermTime) leave nothing behind.
 */
export function killAllProcessTrees(): void {
  closeSpareShells();
  for (const pgid of liveProcessGroups) killProcessTree(pgid, signalNumber('KILL')!);
  liveProcessGroups.clear();
}

/** util-linux `script` provides PTYs: Node.js has none built in. */
function findScriptProgram(env: Record<string, string>): string | undefined {
  const dirs = [...(env.PATH ?? '').split(':').filter(Boolean), '/usr/bin', '/bin'];
  return findProgram('script', dirs.join(':'), process.cwd()) ?? undefined;
}

export class RunProcess {
  readonly workdir: string;
  private readonly argv: string[];
  private readonly shownCommand: string | string[];
  private readonly environment: Record<string, string>;
  private readonly send: (updates: Update[]) => void;
  private readonly sendStdout: boolean;
  private readonly sendStderr: boolean;
  private readonly sendRC: boolean;
  private readonly timeout: number | null;
  private readonly maxTime: number | null;
  private readonly sigtermTime: number | null;
  private readonly initialStdin: string | null;
  private readonly logEnviron: boolean;
  private readonly logfilesArg: Record<string, unknown>;
  private readonly usePTY: boolean;
  private readonly interruptSignal: string;
  private readonly killGraceMs: number;
  private readonly logfilePollMs: number;
  private readonly killLeftovers: boolean;
  private readonly watchers: LogfileWatcher[] = [];

  private child: ChildProcess | undefined;
  private readonly flow: FlowControl | undefined;
  private paused = false;
  private startTime = 0;
  private killed = false;
  private done = false;
  private ioTimer: NodeJS.Timeout | undefined;
  private maxTimer: NodeJS.Timeout | undefined;
  private sigtermTimer: NodeJS.Timeout | undefined;
  private backupTimer: NodeJS.Timeout | undefined;
  private settle: { resolve: (rc: number) => void; reject: (e: unknown) => void } | undefined;

  /** Validates and prepares everything; throws a WorkerFailure for bad arguments. */
  constructor(options: RunProcessOptions) {
    this.send = options.sendUpdate;
    this.flow = options.flow;
    const { real, shown } = splitObfuscated(options.command);
    this.shownCommand = shown;
    this.workdir = options.workdir;
    this.sendStdout = options.sendStdout ?? true;
    this.sendStderr = options.sendStderr ?? true;
    this.sendRC = options.sendRC ?? true;
    this.timeout = positiveOrNull(options.timeout);
    this.maxTime = positiveOrNull(options.maxTime);
    this.sigtermTime = asNumber(options.sigtermTime) ?? null;
    this.initialStdin = options.initialStdin ?? null;
    this.logEnviron = options.logEnviron ?? true;
    this.logfilesArg = options.logfiles ?? {};
    this.interruptSignal = options.interruptSignal || 'KILL';
    this.killGraceMs = options.killGraceMs ?? 5000;
    this.logfilePollMs = options.logfilePollMs ?? 2000;
    this.killLeftovers = options.killLeftovers ?? true;

    if (!existsSync(this.workdir)) mkdirSync(this.workdir, { recursive: true });
    const workerEnv = options.workerEnv ?? process.env;
    this.environment = buildEnvironment(options.env, workerEnv);

    let usePTY = options.usePTY ?? false;
    if (usePTY && this.initialStdin !== null) {
      // Stdin has to be a pipe that can be closed after the data is written.
      this.send([['header', 'WARNING: disabling usePTY for this command\n']]);
      usePTY = false;
    }
    const script = usePTY ? findScriptProgram(this.environment) : undefined;
    if (usePTY && !script) {
      this.send([
        [
          'header',
          "WARNING: usePTY needs the 'script' program (util-linux), which is missing; running without a PTY\n",
        ],
      ]);
      usePTY = false;
    }
    this.usePTY = usePTY;
    const command = typeof real === 'string' ? ['/bin/sh', '-c', real] : real;
    this.argv = script ? [script, '-qfec', this.commandLineForScript(command), '/dev/null'] : command;

    for (const [name, spec] of Object.entries(this.logfilesArg)) {
      let filename = spec;
      let follow = false;
      if (isPlainObject(spec)) {
        filename = spec.filename;
        follow = Boolean(spec.follow);
      }
      if (typeof filename !== 'string') {
        throw new BadArgsError(`logfile ${reprText(name)} needs a filename`, 'builtins.KeyError');
      }
      const path = pyJoin(this.workdir, filename);
      this.watchers.push(new LogfileWatcher(name, path, follow, (n, text) => this.addLogfile(n, text)));
    }
  }

  /**
   * `script` hands its command to `$SHELL -c` (forced to /bin/sh); that shell
   * puts the build's own SHELL back and execs the argv, so the program runs
   * exactly as it would without a PTY.
   */
  private commandLineForScript(argv: string[]): string {
    const shell = this.environment.SHELL;
    const restore = shell === undefined ? ['env', '-u', 'SHELL'] : ['env', `SHELL=${shell}`];
    return `exec ${shellQuote([...restore, ...argv])}`;
  }

  /** Starts the process; resolves with the rc when it has ended (-1 if killed by a signal). */
  start(): Promise<number> {
    return new Promise<number>((resolvePromise, rejectPromise) => {
      this.settle = { resolve: resolvePromise, reject: rejectPromise };
      try {
        this.spawnProcess();
      } catch (err) {
        // As buildbot-worker reports an exception while starting the process.
        const message = toWorkerFailure(err).message;
        this.send([['stderr', `error in RunProcess._startCommand (${message})\n`]]);
        this.fail(new AbandonChainError(-1, `Got exception (${message})`));
      }
    });
  }

  /** Kills the process tree, reporting `reason` in the header (e.g. `command interrupted`). */
  kill(reason: string): void {
    if (this.done || !this.child) return;
    this.cancelTimers();
    this.send([['header', `\n${reason}, attempting to kill\n`]]);
    this.killed = true;
    if (this.sigtermTime !== null) {
      this.signalTree('TERM');
      this.sigtermTimer = setTimeout(() => {
        this.sigtermTimer = undefined;
        if (!this.leaderExited()) this.signalTree(this.interruptSignal);
        this.awaitDeath();
      }, this.sigtermTime * 1000);
    } else {
      this.signalTree(this.interruptSignal);
      this.awaitDeath();
    }
  }

  /** The command as shown in headers and timeout messages (Python repr of the argv bytes). */
  private shownArgvRepr(): string {
    const shown = this.shownCommand;
    return typeof shown === 'string' ? pyRepr(utf8.encode(shown)) : pyRepr(shown.map((a) => utf8.encode(a)));
  }

  private spawnProcess(): void {
    this.environment.PWD = resolve(this.workdir);
    const shown = this.shownCommand;
    const headers: string[] = [];
    headers.push(`${typeof shown === 'string' ? shown : shellQuote(shown)}\n`);
    let where = ` in dir ${this.workdir}`;
    if (this.timeout) where += ` (timeout ${pyStr(this.timeout)} ${this.timeout === 1 ? 'sec' : 'secs'})`;
    if (this.maxTime) where += ` (maxTime ${pyStr(this.maxTime)} ${this.maxTime === 1 ? 'sec' : 'secs'})`;
    headers.push(`${where}\n`);
    headers.push(` watching logfiles ${pyRepr(this.logfilesArg)}\n`);
    headers.push(` argv: ${this.shownArgvRepr()}\n`);
    if (this.logEnviron) {
      let text = ' environment:\n';
      for (const name of Object.keys(this.environment).sort())
        text += `  ${name}=${this.environment[name]}\n`;
      headers.push(text);
    }
    const stdinBytes = this.initialStdin ? utf8.encode(this.initialStdin) : undefined;
    if (stdinBytes) headers.push(` writing ${stdinBytes.length} bytes to stdin\n`);
    headers.push(` using PTY: ${this.usePTY ? 'True' : 'False'}\n`);

    this.startTime = performance.now();
    const [file, ...args] = this.argv as [string, ...string[]];
    let child: ChildProcess;
    try {
      child =
        (this.usePTY ? null : takeSpareShell({ file, args, cwd: this.workdir, env: this.environment })) ??
        spawn(file, args, {
          cwd: this.workdir,
          // `script` runs its command line with $SHELL, which must be a POSIX shell.
          env: this.usePTY ? { ...this.environment, SHELL: '/bin/sh' } : this.environment,
          detached: true,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
      // The next command's process is forked while this one runs (spare-shell.ts).
      prepareSpareShellSoon();
    } finally {
      // The headers go out once the process is on its way, not before: on a busy machine the
      // master waking up to store them would compete with the start of the command. Its
      // output is read only from the next turn of the event loop, so it still follows them.
      this.send(headers.map((h) => ['header', h]));
    }
    this.child = child;
    if (child.pid !== undefined) liveProcessGroups.add(child.pid);

    child.on('error', (err) => {
      if (child.pid !== undefined) return; // errors of a running child surface as exit status
      this.reportExecFailure(file, err);
    });
    child.stdin!.on('error', () => {
      // The program exited without reading its stdin: nothing to report.
    });
    if (stdinBytes) child.stdin!.write(stdinBytes);
    child.stdin!.end();

    const stdoutDecoder = new TextDecoder('utf-8');
    const stderrDecoder = new TextDecoder('utf-8');
    child.stdout!.on('data', (chunk: Buffer) =>
      this.addOutput('stdout', stdoutDecoder.decode(chunk, { stream: true })),
    );
    child.stderr!.on('data', (chunk: Buffer) =>
      this.addOutput('stderr', stderrDecoder.decode(chunk, { stream: true })),
    );
    child.on('close', (code, signal) => {
      if (child.pid === undefined) return;
      const tailOut = stdoutDecoder.decode();
      const tailErr = stderrDecoder.decode();
      if (tailOut) this.addOutput('stdout', tailOut);
      if (tailErr) this.addOutput('stderr', tailErr);
      this.finished(signal ? signalNumberOf(signal) : null, code ?? -1);
    });

    if (this.timeout) this.ioTimer = setTimeout(() => this.onIoTimeout(), seconds(this.timeout));
    if (this.maxTime) this.maxTimer = setTimeout(() => this.onMaxTime(), seconds(this.maxTime));
    for (const w of this.watchers) w.start(this.logfilePollMs);
  }

  /** A program that cannot be executed fails like a Python worker's child: stderr and rc 1. */
  private reportExecFailure(file: string, err: Error): void {
    const info = errnoInfo(err);
    const why = info ? `[Errno ${info.errno}] ${info.strerror}` : err.message;
    this.addOutput('stderr', `Cannot run program ${reprText(file)} in ${reprText(this.workdir)}: ${why}\n`);
    this.finished(null, 1);
  }

  private addOutput(key: 'stdout' | 'stderr', text: string): void {
    if (text === '') return;
    if (key === 'stdout' ? this.sendStdout : this.sendStderr) this.send([[key, text]]);
    this.resetIoTimer();
    this.pauseIfCongested();
  }

  /** Stops reading the program's output (so it blocks on its pipe) until the master catches up. */
  private pauseIfCongested(): void {
    const flow = this.flow;
    const child = this.child;
    if (!flow || !child || this.paused || !flow.congested()) return;
    this.paused = true;
    child.stdout?.pause();
    child.stderr?.pause();
    void flow.drained().then(() => {
      this.paused = false;
      child.stdout?.resume();
      child.stderr?.resume();
      // Time spent waiting for the master is not the program's silence.
      this.resetIoTimer();
    });
  }

  private addLogfile(name: string, text: string): void {
    this.send([['log', tuple(name, text)]]);
    this.resetIoTimer();
  }

  private resetIoTimer(): void {
    if (this.ioTimer) this.ioTimer.refresh();
  }

  private onIoTimeout(): void {
    this.ioTimer = undefined;
    this.kill(
      `command timed out: ${pyStr(this.timeout)} seconds without output running ${this.shownArgvRepr()}`,
    );
  }

  private onMaxTime(): void {
    this.maxTimer = undefined;
    this.kill(`command timed out: ${pyStr(this.maxTime)} seconds elapsed running ${this.shownArgvRepr()}`);
  }

  private signalTree(name: string): boolean {
    const pid = this.child?.pid;
    if (pid === undefined) return false;
    return killProcessTree(pid, signalNumber(name) ?? signalNumber('KILL')!);
  }

  private leaderExited(): boolean {
    const c = this.child;
    return !c || c.exitCode !== null || c.signalCode !== null;
  }

  /**
   * After the kill signal: stop listening to pipes that grandchildren may hold
   * open (so the end is noticed as soon as the process is gone), and give up
   * after a grace period if it does not go away.
   */
  private awaitDeath(): void {
    if (this.done) return;
    this.child?.stdout?.destroy();
    this.child?.stderr?.destroy();
    this.backupTimer = setTimeout(() => this.onKillFailed(), this.killGraceMs);
  }

  private onKillFailed(): void {
    this.backupTimer = undefined;
    if (this.done) return;
    const signalName = `SIG${this.interruptSignal}`;
    this.send([['header', `${signalName} failed to kill process\n`]]);
    if (this.sendRC)
      this.send([
        ['header', 'using fake rc=-1\n'],
        ['rc', -1],
      ]);
    this.fail(new KillFailedError(signalName));
  }

  private finished(signal: number | null, exitCode: number): void {
    if (this.done) return;
    this.done = true;
    const elapsed = (performance.now() - this.startTime) / 1000;
    this.cancelTimers();
    for (const w of this.watchers) w.stop();
    if (this.killLeftovers) this.killLeftoverProcesses();
    this.forget();
    let rc = exitCode;
    if (signal !== null) rc = -1;
    else if (this.killed && rc === 0) rc = -1;
    if (this.sendRC) {
      if (signal !== null) this.send([['header', `process killed by signal ${signal}\n`]]);
      this.send([['rc', rc]]);
    }
    this.send([['header', `elapsedTime=${elapsed.toFixed(6)}\n`]]);
    this.settle?.resolve(rc);
  }

  /**
   * The leader has been reaped by now ('close' comes after its exit), so its descendants
   * have been re-parented and a /proc walk from its pid finds none of them (or the children
   * of a process that reused the pid): only its process group can still be reached.
   */
  private killLeftoverProcesses(): void {
    const pid = this.child?.pid;
    if (pid !== undefined) killProcessGroup(pid, signalNumber('KILL')!);
  }

  private forget(): void {
    const pid = this.child?.pid;
    if (pid !== undefined) liveProcessGroups.delete(pid);
  }

  private fail(failure: unknown): void {
    this.done = true;
    this.forget();
    this.cancelTimers();
    for (const w of this.watchers) w.stop();
    this.settle?.reject(failure);
  }

  private cancelTimers(): void {
    for (const t of [this.ioTimer, this.maxTimer, this.sigtermTimer, this.backupTimer])
      if (t) clearTimeout(t);
    this.ioTimer = this.maxTimer = this.sigtermTimer = this.backupTimer = undefined;
  }
}

function splitObfuscated(command: string | readonly CommandItem[]): {
  real: string | string[];
  shown: string | string[];
} {
  if (typeof command === 'string') return { real: command, shown: command };
  if (!Array.isArray(command)) {
    throw new BadArgsError(
      `'command' must be a string or a list, not ${pyRepr(command)}`,
      'builtins.TypeError',
    );
  }
  const real: string[] = [];
  const shown: string[] = [];
  for (const item of command) {
    if (typeof item === 'string') {
      real.push(item);
      shown.push(item);
    } else if (Array.isArray(item) && item.length === 3 && item[0] === 'obfuscated') {
      real.push(String(item[1]));
      shown.push(String(item[2]));
    } else if (typeof item === 'number' || typeof item === 'bigint') {
      real.push(String(item));
      shown.push(String(item));
    } else {
      throw new BadArgsError(`unsupported item in 'command': ${pyRepr(item)}`, 'builtins.TypeError');
    }
  }
  if (real.length === 0) throw new BadArgsError("'command' is an empty list", 'builtins.ValueError');
  return { real, shown };
}

function positiveOrNull(value: unknown): number | null {
  const n = asNumber(value);
  return n !== undefined && n > 0 ? n : null;
}

/** setTimeout takes at most 2^31-1 ms; longer limits are effectively "never". */
function seconds(s: number): number {
  return Math.min(s * 1000, 2 ** 31 - 1);
}
