/**
 * What every worker command shares, and the seam to the outside world.
 *
 * A command gets its `args` as plain JavaScript values (decoded from PB) and
 * talks to the master only through a `CommandContext`: `host.sendUpdate` for
 * updates (the host batches them), and `remotes` to turn the `writer`/`reader`
 * references in transfer args into promise-based objects. Nothing here knows
 * about PB.
 */
import { toWorkerFailure, type WorkerFailure } from '../protocol/failure.js';
import { float, type PyTuple, type Update } from '../protocol/values.js';

export interface CommandHost {
  /** Queues updates for the master, in order; batching is done by the host. */
  sendUpdate(updates: Update[]): void;
  /** Tells a producer to wait when the master falls behind, so memory stays bounded. */
  readonly flow?: FlowControl;
}

/** Back-pressure from the master: too much output sent and not yet acknowledged. */
export interface FlowControl {
  congested(): boolean;
  /** Resolves once enough of the outstanding output has been acknowledged. */
  drained(): Promise<void>;
}

/** The master's FileWriter / DirectoryWriter (target of uploads). */
export interface RemoteWriter {
  write(data: Uint8Array): Promise<void>;
  /** `(atime, mtime)` in seconds, already a tuple of two floats: pass it on as is. */
  utime(accessedModified: PyTuple): Promise<void>;
  close(): Promise<void>;
  /** DirectoryWriter only: close, then extract the tar archive received. */
  unpack(): Promise<void>;
}

/** The master's FileReader (source of downloads). */
export interface RemoteReader {
  /** At most `maxLength` bytes; empty (bytes or text) at the end. */
  read(maxLength: number): Promise<Uint8Array | string>;
  close(): Promise<void>;
}

/** Turns the opaque references found in args (`writer`, `reader`) into usable objects. */
export interface RemoteObjects {
  writer(ref: unknown): RemoteWriter;
  reader(ref: unknown): RemoteReader;
}

export interface WorkerSettings {
  /** Kill processes a shell command left running in its process group (default true). */
  killLeftovers?: boolean;
  /** Seconds to wait for a killed process before giving up (default 5). */
  killGraceSeconds?: number;
  /** The environment commands inherit; default `process.env`. */
  environment?: NodeJS.ProcessEnv;
}

export interface CommandContext {
  host: CommandHost;
  /** The builder directory ("B"): worker base directory joined with the builddir. */
  builderDir: string;
  /** The worker base directory (cwd of rmdir/cpdir helper processes). */
  workerBasedir: string;
  remotes: RemoteObjects;
  settings?: WorkerSettings;
}

export type CommandArgs = Record<string, unknown>;

export abstract class Command {
  /** Set by `interrupt()`. */
  interrupted = false;
  /** False once the command finished or was interrupted: status updates are then dropped. */
  private running = false;

  constructor(
    protected readonly context: CommandContext,
    protected readonly args: CommandArgs,
  ) {}

  /** Does the work; resolves when done. A rejection becomes the command's failure. */
  protected abstract start(): Promise<void>;

  /** Asks the command to stop soon; it still completes normally. */
  protected interrupt(): void {}

  /**
   * Runs the command to its end and reports `elapsed` (unless interrupted), as
   * Buildbot's Command.doStart does. Returns the failure to send with
   * `complete`, or null.
   */
  async run(): Promise<WorkerFailure | null> {
    this.running = true;
    const started = performance.now();
    let failure: WorkerFailure | null = null;
    try {
      await this.start();
    } catch (err) {
      failure = toWorkerFailure(err);
    }
    this.sendStatus([['elapsed', float((performance.now() - started) / 1000)]]);
    this.running = false;
    return failure;
  }

  /** Stops the command: no more status updates, and subclasses kill what they run. */
  doInterrupt(): void {
    this.running = false;
    if (this.interrupted) return;
    this.interrupted = true;
    this.interrupt();
  }

  /** Status for the master, dropped once interrupted (Buildbot's sendStatus). */
  protected sendStatus(updates: Update[]): void {
    if (this.running) this.context.host.sendUpdate(updates);
  }

  /** Updates that are sent even after an interrupt (process output, final rc of transfers). */
  protected sendUpdate(updates: Update[]): void {
    this.context.host.sendUpdate(updates);
  }

  protected get settings(): WorkerSettings {
    return this.context.settings ?? {};
  }
}
