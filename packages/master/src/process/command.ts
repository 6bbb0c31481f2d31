// One remote command as the master follows it: the worker's updates arrive in order and are
// applied in order (output to logs, rc, elapsed, anything else kept for the step), then
// `complete` settles the outcome. Protocol-independent: the PB layer only forwards updates.
// A worker is not trusted: update keys no worker command sends are ignored, output goes to
// logs rather than staying in memory, and what one command may hold is bounded (updates
// waiting to be stored, values kept for the step, stdout collected for the step); a command
// over a bound fails with CommandLimitError and its later updates are dropped.
import type { RemoteCommandOutcome, StepLog } from '../steps/contract.js';
import type { CommandSink } from '../workers/channel.js';

let counter = 0;

/** The update keys Buildbot 3.7's and Lathe's worker commands send. */
export const KNOWN_UPDATE_KEYS: ReadonlySet<string> = new Set([
  'stdout',
  'stderr',
  'header',
  'log',
  'rc',
  'elapsed',
  'files',
  'stat',
]);

/** Keys whose values go to logs only, not into `updates` (as in Buildbot, plus `log`). */
const STREAMED_KEYS: ReadonlySet<string> = new Set(['stdout', 'stderr', 'header', 'log']);

export interface CommandLimits {
  /** Bytes of updates received but not yet stored (a worker that does not wait for answers). */
  readonly pendingBytes: number;
  /** Bytes of values kept in `updates` for the step (`files` of a directory listing, `stat`…). */
  readonly keptBytes: number;
  /** Bytes of stdout collected for the step (`collectStdout`). */
  readonly collectedBytes: number;
}

export const DEFAULT_COMMAND_LIMITS: CommandLimits = {
  pendingBytes: 64 * 1024 * 1024,
  keptBytes: 16 * 1024 * 1024,
  collectedBytes: 16 * 1024 * 1024,
};

/** A command's updates went over one of its bounds. */
export class CommandLimitError extends Error {
  override readonly name = 'CommandLimitError';
  constructor(
    readonly command: string,
    readonly limit: keyof CommandLimits,
    readonly bytes: number,
  ) {
    super(`command ${command}: the worker sent more than ${bytes} bytes of ${LIMIT_TEXT[limit]}`);
  }
}

const LIMIT_TEXT: Record<keyof CommandLimits, string> = {
  pendingBytes: 'updates the master had not stored yet',
  keptBytes: 'values kept for the step',
  collectedBytes: 'stdout collected for the step',
};

/** Roughly how much memory an update value holds (strings by length); bounded in depth. */
export function updateSize(value: unknown, depth = 0): number {
  if (typeof value === 'string') return value.length;
  if (value instanceof Uint8Array) return value.length;
  if (depth > 32 || value === null || typeof value !== 'object') return 8;
  let size = 16;
  const items =
    value instanceof Map
      ? [...value.entries()].flat()
      : Array.isArray(value)
        ? value
        : Object.entries(value).flat();
  for (const item of items) size += updateSize(item, depth + 1);
  return size;
}

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
  #pendingBytes = 0;
  #keptBytes = 0;
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
    private readonly limits: CommandLimits = DEFAULT_COMMAND_LIMITS,
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
    if (this.#settled || !KNOWN_UPDATE_KEYS.has(key)) return this.#chain;
    const size = updateSize(value);
    this.#pendingBytes += size;
    if (this.#pendingBytes > this.limits.pendingBytes) {
      this.#fail(new CommandLimitError(this.commandName, 'pendingBytes', this.limits.pendingBytes));
      return this.#chain;
    }
    this.#chain = this.#chain
      .then(() => this.#apply(key, value, size))
      .catch((err) => {
        if (err instanceof CommandLimitError) this.#fail(err);
        else this.#logFailure ??= err;
      })
      .then(() => {
        this.#pendingBytes -= size;
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

  async #apply(key: string, value: unknown, size: number): Promise<void> {
    if (this.#settled) return;
    const stdio = this.logs.stdio;
    switch (key) {
      case 'stdout': {
        const text = String(value);
        if (this.collectStdout) {
          if (this.#stdout.length + text.length > this.limits.collectedBytes) {
            throw new CommandLimitError(this.commandName, 'collectedBytes', this.limits.collectedBytes);
          }
          this.#stdout += text;
        }
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
    if (STREAMED_KEYS.has(key)) return;
    this.#keptBytes += size;
    if (this.#keptBytes > this.limits.keptBytes) {
      throw new CommandLimitError(this.commandName, 'keptBytes', this.limits.keptBytes);
    }
    const seen = this.updates[key];
    if (seen) seen.push(value);
    else this.updates[key] = [value];
  }
}
