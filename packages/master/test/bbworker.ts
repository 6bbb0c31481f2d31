// A stock Python buildbot-worker 3.7 (Debian) as a test peer: created with
// `buildbot-worker create-worker`, run in the foreground with twistd in its own process
// group so that a test can kill it (and only it) at any moment.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const BUILDBOT_WORKER = '/usr/bin/buildbot-worker';
const TWISTD = '/usr/bin/twistd3';

export function stockWorkerAvailable(): boolean {
  return existsSync(BUILDBOT_WORKER) && existsSync(TWISTD);
}

export class StockWorker {
  #proc: ChildProcess | null = null;
  #exited: Promise<number | null> = Promise.resolve(null);

  constructor(
    readonly basedir: string,
    readonly name: string,
    password: string,
    port: number,
  ) {
    execFileSync(
      BUILDBOT_WORKER,
      ['create-worker', '--keepalive=600', basedir, `127.0.0.1:${port}`, name, password],
      {
        stdio: 'ignore',
      },
    );
  }

  get running(): boolean {
    return this.#proc !== null;
  }

  start(): void {
    if (this.#proc) throw new Error(`worker ${this.name} already running`);
    // An empty --pidfile: a SIGKILLed run must not leave a pid file that blocks the next.
    const proc = spawn(TWISTD, ['--nodaemon', '--pidfile=', '-y', 'buildbot.tac'], {
      cwd: this.basedir,
      detached: true,
      stdio: 'ignore',
    });
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

  log(): string {
    const file = join(this.basedir, 'twistd.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }
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
