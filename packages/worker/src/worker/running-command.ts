/**
 * One started command and its conversation with the master's RemoteCommand:
 * batched `update` calls while it runs, then exactly one `complete`.
 */
import type { Command, FlowControl } from '../commands/command.js';
import type { WorkerFailure } from '../protocol/failure.js';
import type { Update } from '../protocol/values.js';
import { type BatcherOptions, UpdateBatcher } from '../updates/batcher.js';
import { logMessage } from '../util/log.js';

/**
 * The master's RemoteCommand for one command, as the PB layer exposes it:
 * `ref.callRemote('update', wireUpdates)` and `ref.callRemote('complete', failure)`.
 */
export interface MasterCommandRef {
  /** `wireUpdates` is a list of `[{key: value}, updateNumber]` pairs (see toWireUpdates). */
  update(wireUpdates: unknown[]): Promise<unknown>;
  complete(failure: WorkerFailure | null): Promise<unknown>;
}

/**
 * A batch in the form of RemoteCommand.update's argument: a list of
 * `[dict, int]` pairs, one single-key dict per update, processed in order.
 */
export function toWireUpdates(batch: readonly Update[]): unknown[] {
  return batch.map(([key, value]) => [{ [key]: value }, 0]);
}

/** Unacknowledged output above which producers pause, and below which they resume. */
const HIGH_WATER_BYTES = 3 * 1024 * 1024;
const LOW_WATER_BYTES = 2 * 1024 * 1024;

/**
 * Where a command's updates go; given to the command by its builder. It counts the
 * bytes sent in `update` calls the master has not answered yet: a master slower than
 * the build's output (Buildbot's is, at a few MB/s) then slows the build down instead
 * of the worker buffering everything.
 */
export class CommandUpdates implements FlowControl {
  private readonly batcher: UpdateBatcher;
  private silenced = false;
  private completed = false;
  private inFlightBytes = 0;
  private waiters: Array<() => void> = [];
  readonly flow: FlowControl = this;

  constructor(
    private readonly ref: MasterCommandRef,
    private readonly label: string,
    options?: BatcherOptions,
  ) {
    this.batcher = new UpdateBatcher((batch) => this.sendBatch(batch), options);
  }

  sendUpdate(updates: Update[]): void {
    if (this.silenced || this.completed) return;
    this.batcher.add(updates);
  }

  /** Flushes, then calls `complete` without waiting for the update answers. */
  async complete(failure: WorkerFailure | null): Promise<void> {
    if (this.silenced || this.completed) return;
    this.batcher.flush();
    this.completed = true;
    try {
      await this.ref.complete(failure);
    } catch (err) {
      logMessage(`${this.label}: master rejected 'complete': ${describe(err)}`);
    }
  }

  /** No more messages to the master (it is gone, or the command was replaced). */
  silence(): void {
    this.silenced = true;
    this.batcher.discard();
    this.release();
  }

  congested(): boolean {
    return this.inFlightBytes > HIGH_WATER_BYTES && !this.silenced;
  }

  drained(): Promise<void> {
    if (!this.congested()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private sendBatch(batch: Update[]): void {
    const size = batchSize(batch);
    this.inFlightBytes += size;
    this.ref
      .update(toWireUpdates(batch))
      .catch((err) => {
        logMessage(`${this.label}: master rejected 'update': ${describe(err)}`);
      })
      .finally(() => {
        this.inFlightBytes -= size;
        if (this.inFlightBytes <= LOW_WATER_BYTES) this.release();
      });
  }
}

function batchSize(batch: readonly Update[]): number {
  let n = 0;
  for (const [, value] of batch) n += typeof value === 'string' ? value.length : 64;
  return n;
}

export class RunningCommand {
  readonly done: Promise<void>;

  constructor(
    readonly commandId: string,
    readonly commandName: string,
    private readonly command: Command,
    private readonly updates: CommandUpdates,
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    const failure = await this.command.run();
    if (failure) logMessage(`command ${this.commandName} [id ${this.commandId}] failed: ${failure.message}`);
    await this.updates.complete(failure);
  }

  /** interruptCommand from the master: the command reports and completes as usual. */
  interrupt(): void {
    this.command.doInterrupt();
  }

  /** Stops the command and drops everything it would still say. */
  stop(): void {
    this.updates.silence();
    this.command.doInterrupt();
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
