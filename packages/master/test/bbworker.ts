// Real worker processes as test peers: a stock Python buildbot-worker 3.7 (Debian) or a
// Lathe worker (`@lathe/worker`'s CLI), both run in the foreground in their own process
// group so that a test can kill one (and only it) at any moment. The scenarios are the
// same for both kinds; only what each kind writes in its log differs.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const BUILDBOT_WORKER = '/usr/bin/buildbot-worker';
const TWISTD = '/usr/bin/twistd3';
const LATHE_WORKER = join(import.meta.dirname, '..', '..', '..', 'worker', 'dist', 'src', 'cli.js');

export type WorkerKind = 'stock' | 'lathe';

export function stockWorkerAvailable(): boolean {
  return existsSync(BUILDBOT_WORKER) && existsSync(TWISTD);
}

export function workerAvailable(kind: WorkerKind): boolean {
  return kind === 'stock' ? stockWorkerAvailable() : existsSync(LATHE_WORKER);
}

export interface WorkerOptions {
  /** Longest wait between reconnection attempts, in seconds (both kinds default to 300). */
  readonly maxDelay?: number;
}

/** A worker process: created on construction, started and killed by the test. */
export abstract class TestWorker {
  #proc: ChildProcess | null = null;
  #exited: Promise<number | null> = Promise.resolve(null);

  constructor(
    readonly kind: WorkerKind,
    readonly basedir: string,
    readonly name: string,
  ) {}

  protected abstract spawnProcess(): ChildProcess;
  abstract log(): string;

  get running(): boolean {
    return this.#proc !== null;
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  start(): void {
    if (this.#proc) throw new Error(`worker ${this.name} already running`);
    const proc = this.spawnProcess();
    this.#proc = proc;
    this.#exited = new Promise((resolve) => {
      proc.once('exit', (code) => {
        if (this.#proc === proc) this.#proc = null;
        resolve(code);
      });
    });
  }

  /** Kills the worker's process group and waits until the worker process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.#proc;
    if (!proc?.pid) return;
    try {
      process.kill(-proc.pid, signal);
    } catch {
      // Already gone.
    }
    await this.#exited;
  }

  /** Resolves when the worker process exits by itself (e.g. after a master shutdown call). */
  exited(timeoutMs: number): Promise<number | null> {
    return Promise.race([
      this.#exited,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`worker ${this.name} did not exit within ${timeoutMs} ms`)),
          timeoutMs,
        ).unref(),
      ),
    ]);
  }
}

export class StockWorker extends TestWorker {
  constructor(basedir: string, name: string, password: string, port: number, options: WorkerOptions = {}) {
    super('stock', basedir, name);
    execFileSync(
      BUILDBOT_WORKER,
      [
        'create-worker',
        '--keepalive=600',
        `--maxdelay=${options.maxDelay ?? 300}`,
        basedir,
        `127.0.0.1:${port}`,
        name,
        password,
      ],
      { stdio: 'ignore' },
    );
  }

  protected spawnProcess(): ChildProcess {
    // An empty --pidfile: a SIGKILLed run must not leave a pid file that blocks the next.
    return spawn(TWISTD, ['--nodaemon', '--pidfile=', '-y', 'buildbot.tac'], {
      cwd: this.basedir,
      detached: true,
      stdio: 'ignore',
    });
  }

  log(): string {
    const file = join(this.basedir, 'twistd.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }
}

export class LatheWorker extends TestWorker {
  readonly #logFile: string;

  constructor(basedir: string, name: string, password: string, port: number, options: WorkerOptions = {}) {
    super('lathe', basedir, name);
    this.#logFile = join(basedir, 'foreground.log');
    execFileSync(
      process.execPath,
      [
        LATHE_WORKER,
        'create',
        '--keepalive',
        '600',
        '--maxdelay',
        String(options.maxDelay ?? 300),
        basedir,
        `127.0.0.1:${port}`,
        name,
        password,
      ],
      { stdio: 'ignore' },
    );
  }

  protected spawnProcess(): ChildProcess {
    // Foreground runs log to stdout; appending to a file keeps every run's lines, as
    // twistd.log does for the stock worker.
    const fd = openSync(this.#logFile, 'a');
    try {
      return spawn(process.execPath, [LATHE_WORKER, 'start', '--nodaemon', this.basedir], {
        cwd: this.basedir,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
  }

  log(): string {
    return existsSync(this.#logFile) ? readFileSync(this.#logFile, 'utf8') : '';
  }
}

export function createWorker(
  kind: WorkerKind,
  basedir: string,
  name: string,
  password: string,
  port: number,
  options: WorkerOptions = {},
): TestWorker {
  return kind === 'stock'
    ? new StockWorker(basedir, name, password, port, options)
    : new LatheWorker(basedir, name, password, port, options);
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
