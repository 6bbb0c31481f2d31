// A latent worker started and stopped by commands the user gives: a cloud CLI, ssh to a
// machine that runs `lathe-worker start`, a local script. Commands are argument lists run
// without a shell (write ['sh', '-c', '…'] to ask for one). They inherit the master's
// environment plus `env` and:
//   LATHE_WORKER_NAME, LATHE_WORKER_PASSWORD, LATHE_MASTER (host:port), LATHE_MASTER_HOST,
//   LATHE_MASTER_PORT, LATHE_START_ATTEMPT
// so the password never needs to be on a command line. Output is kept (the last 4 KiB, the
// password replaced by ***) for the error when a command fails.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  type LatentInstanceContext,
  type LatentStopContext,
  LatentWorker,
  LatentWorkerConfigError,
  type LatentWorkerOptions,
} from './latent-worker.js';

type Argv<C> = readonly string[] | ((ctx: C) => readonly string[] | Promise<readonly string[]>);

export interface CommandLatentWorkerOptions extends LatentWorkerOptions {
  /** Launches the worker. Must exit 0 once it is launched, unless `runsWorker`. */
  readonly start: Argv<LatentInstanceContext>;
  /** Stops it; may be absent with `runsWorker` (the process is then terminated). */
  readonly stop?: Argv<LatentStopContext>;
  /** Extra environment variables for both commands. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory of both commands; default the master's. */
  readonly cwd?: string;
  /**
   * The start command is the worker itself and runs as long as it does (`lathe-worker start
   * --nodaemon`, `ssh host …`): the instance counts as launched once it is spawned, its exit
   * ends the instance, and stopping runs `stop` (if given) and then terminates it (SIGTERM,
   * SIGKILL after 10 s). Default false.
   */
  readonly runsWorker?: boolean;
}

/** A start or stop command failed. */
export class LatentCommandError extends Error {
  override readonly name = 'LatentCommandError';
  constructor(
    readonly worker: string,
    readonly which: 'start' | 'stop',
    readonly program: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
    /** The command's last output, the password replaced by ***. */
    readonly output: string,
  ) {
    const how = exitCode !== null ? `exited with code ${exitCode}` : `was killed by ${signal ?? 'a signal'}`;
    super(
      `latent worker ${worker}: ${which} command ${JSON.stringify(program)} ${how}${output ? `: ${output.trim()}` : ''}`,
    );
  }
}

const OUTPUT_TAIL = 4096;
const KILL_GRACE_MS = 10_000;

/** What start() hands to stop() in `runsWorker` mode. */
interface RunningWorker {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

export class CommandLatentWorker extends LatentWorker {
  readonly startCommand: Argv<LatentInstanceContext>;
  readonly stopCommand: Argv<LatentStopContext> | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
  readonly runsWorker: boolean;

  constructor(options: CommandLatentWorkerOptions) {
    super(options);
    const checkArgv = (field: string, v: unknown) => {
      if (typeof v === 'function') return;
      if (!Array.isArray(v) || v.length === 0 || !v.every((a) => typeof a === 'string'))
        throw new LatentWorkerConfigError(
          options.name,
          field,
          'must be a non-empty list of strings or a function returning one',
        );
    };
    checkArgv('start', options.start);
    if (options.stop !== undefined) checkArgv('stop', options.stop);
    else if (!options.runsWorker)
      throw new LatentWorkerConfigError(options.name, 'stop', 'is required unless runsWorker is set');
    this.startCommand = options.start;
    this.stopCommand = options.stop;
    this.env = options.env ?? {};
    this.cwd = options.cwd;
    this.runsWorker = options.runsWorker ?? false;
  }

  async start(ctx: LatentInstanceContext): Promise<RunningWorker | undefined> {
    const argv = await resolveArgv(this.startCommand, ctx, this.name, 'start');
    if (!this.runsWorker) {
      await this.#run('start', argv, ctx);
      return undefined;
    }
    const { child, exit, output } = this.#spawn(argv, ctx);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const exited = exit.then(({ code, signal }) => {
      // Reported to the master: a worker that ends by itself ends its instance.
      ctx.instanceGone?.(
        new LatentCommandError(this.name, 'start', argv[0]!, code, signal, output()).message,
      );
    });
    return { child, exited };
  }

  async stop(ctx: LatentStopContext): Promise<void> {
    if (this.stopCommand) {
      const argv = await resolveArgv(this.stopCommand, ctx, this.name, 'stop');
      await this.#run('stop', argv, ctx);
    }
    const running = ctx.handle as RunningWorker | undefined;
    if (!running || running.child.exitCode !== null || running.child.signalCode !== null) return;
    killGroup(running.child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(running.child, 'SIGKILL'), KILL_GRACE_MS);
    try {
      await running.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async #run(which: 'start' | 'stop', argv: readonly string[], ctx: LatentInstanceContext): Promise<void> {
    const { exit, output } = this.#spawn(argv, ctx);
    const { code, signal } = await exit;
    if (code !== 0) throw new LatentCommandError(this.name, which, argv[0]!, code, signal, output());
  }

  #spawn(argv: readonly string[], ctx: LatentInstanceContext) {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: this.cwd,
      env: {
        ...process.env,
        ...this.env,
        LATHE_WORKER_NAME: ctx.workerName,
        LATHE_WORKER_PASSWORD: ctx.password,
        LATHE_MASTER: ctx.masterAddress,
        LATHE_MASTER_HOST: ctx.masterHost,
        LATHE_MASTER_PORT: String(ctx.masterPort),
        LATHE_START_ATTEMPT: String(ctx.attempt),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that an abandoned command is ended with all it started.
      detached: true,
    });
    let tail = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const onAbort = () => killGroup(child, 'SIGKILL');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once('error', (err) => {
        tail = `${tail}${err.message}`;
        resolve({ code: -1, signal: null });
      });
      // Not 'close': a command that leaves a background process holding its output would
      // never close it. The output that is still in flight gets a moment to arrive.
      child.once('exit', (code, signal) => {
        const settle = () => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          resolve({ code, signal });
        };
        const timer = setTimeout(settle, 200);
        child.once('close', () => {
          clearTimeout(timer);
          settle();
        });
      });
    }).finally(() => ctx.signal.removeEventListener('abort', onAbort));
    const output = () => tail.split(ctx.password).join('***');
    return { child, exit, output };
  }
}

async function resolveArgv<C>(
  argv: Argv<C>,
  ctx: C,
  worker: string,
  which: string,
): Promise<readonly string[]> {
  const out = typeof argv === 'function' ? await argv(ctx) : argv;
  if (!Array.isArray(out) || out.length === 0 || !out.every((a) => typeof a === 'string'))
    throw new LatentWorkerConfigError(worker, which, 'function must return a non-empty list of strings');
  return out;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** A worker the master starts and stops with commands; see CommandLatentWorkerOptions. */
export function commandLatentWorker(options: CommandLatentWorkerOptions): CommandLatentWorker {
  return new CommandLatentWorker(options);
}
