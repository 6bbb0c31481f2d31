// One remote command as the master follows it: the worker's updates arrive in order and are
// applied in order (output to logs, rc, elapsed, anything else kept for the step), then
// `complete` settles the outcome. Protocol-independent: the PB layer only forwards updates.
import type { RemoteCommandOutcome, StepLog } from '../steps/contract.js';
import type { CommandSink } from '../workers/channel.js';

let counter = 0;

/** Buildbot numbers commands across the whole master process, as decimal text. */
export function nextCommandId(): string {
  return String(counter++);
}

export interface CommandLogs {
  /** Where stdout, stderr and header text go; null discards them. */
  readonly stdio: StepLog | null;
  /**
   * The log for a `log` update (a watched logfile), created on first use; null for a name
   * the command did not ask to watch, so a worker cannot make the master create logs at will.
   */
  named(name: string): Promise<StepLog | null>;
}

/** The command raised inside the worker (its `complete` carried a failure). */
export class RemoteCommandFailedError extends Error {
  override readonly name = 'RemoteCommandFailedError';
  constructor(
    readonly command: string,
    readonly commandId: string,
    cause: Error,
  ) {
    super(`command ${command} [${commandId}] failed on the worker: ${cause.message}`, { cause });
  }
}

export class CommandRun implements CommandSink {
  readonly id = nextCommandId();
  readonly updates: Record<string, unknown[]> = {};
  rc: number | null = null;
  elapsed: number | null = null;
  interrupted = false;
  #stdout = '';
  #chain: Promise<void> = Promise.resolve();
  #settled = false;
  #logFailure: unknown;
  readonly done: Promise<RemoteCommandOutcome>;
  #resolve!: (o: RemoteCommandOutcome) => void;
  #reject!: (e: Error) => void;

  constructor(
    readonly commandName: string,
    private readonly logs: CommandLogs,
    private readonly collectStdout: boolean,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Callers may settle it without awaiting (e.g. a lost worker before anyone waits).
    this.done.catch(() => {});
  }

  get settled(): boolean {
    return this.#settled;
  }

  update(key: string, value: unknown): Promise<void> {
    this.#chain = this.#chain
      .then(() => this.#apply(key, value))
      .catch((err) => {
        this.#logFailure ??= err;
      });
    return this.#chain;
  }

  complete(failure: Error | null): void {
    this.#chain = this.#chain.then(async () => {
      if (this.#settled) return;
      if (failure) {
        this.#fail(new RemoteCommandFailedError(this.commandName, this.id, failure));
        return;
      }
      if (this.#logFailure !== undefined) {
        this.#fail(
          this.#logFailure instanceof Error ? this.#logFailure : new Error(String(this.#logFailure)),
        );
        return;
      }
      this.#settled = true;
      this.#resolve({
        rc: this.rc,
        interrupted: this.interrupted,
        updates: this.updates,
        stdout: this.#stdout,
      });
    });
  }

  /** Ends the command without the worker's word (connection lost, could not be started). */
  abort(error: Error): void {
    this.#fail(error);
  }

  #fail(error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }

  async #apply(key: string, value: unknown): Promise<void> {
    if (this.#settled) return;
    const stdio = this.logs.stdio;
    switch (key) {
      case 'stdout': {
        const text = String(value);
        if (this.collectStdout) this.#stdout += text;
        await stdio?.write('o', text);
        return;
      }
      case 'stderr':
        await stdio?.write('e', String(value));
        return;
      case 'header':
        await stdio?.write('h', String(value));
        return;
      case 'rc': {
        this.rc = typeof value === 'number' ? value : Number(value);
        await stdio?.write('h', `program finished with exit code ${this.rc}\n`);
        return;
      }
      case 'log': {
        if (Array.isArray(value) && value.length === 2) {
          const log = await this.logs.named(String(value[0]));
          await log?.write('o', String(value[1]));
        }
        break;
      }
      case 'elapsed':
        this.elapsed = Number(value);
        break;
    }
    const seen = this.updates[key];
    if (seen) seen.push(value);
    else this.updates[key] = [value];
  }
}
