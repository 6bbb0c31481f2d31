// Lathe's own worker (packages/worker) as a test peer, with the same face as StockWorker:
// created with `lathe-worker create`, run with `start --nodaemon` in its own process group
// so that a test can kill it, and only it, at any moment.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', '..', '..', 'worker', 'dist', 'src', 'cli.js');

export class LatheWorker {
  #proc: ChildProcess | null = null;
  #exited: Promise<number | null> = Promise.resolve(null);
  #output = '';

  constructor(
    readonly basedir: string,
    readonly name: string,
    password: string,
    port: number,
  ) {
    execFileSync(process.execPath, [CLI, 'create', basedir, `127.0.0.1:${port}`, name, password], {
      stdio: 'ignore',
    });
  }

  get running(): boolean {
    return this.#proc !== null;
  }

  start(): void {
    if (this.#proc) throw new Error(`worker ${this.name} already running`);
    const proc = spawn(process.execPath, [CLI, 'start', '--nodaemon', this.basedir], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Kept for a failing test's message; bounded so a chatty worker cannot grow it forever.
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString('utf8')).slice(-64 * 1024);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.#proc = proc;
    this.#exited = new Promise((resolve) => {
      proc.once('exit', (code) => {
        if (this.#proc === proc) this.#proc = null;
        resolve(code);
      });
    });
  }

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

  log(): string {
    return this.#output;
  }
}
