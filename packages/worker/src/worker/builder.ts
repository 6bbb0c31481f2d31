/**
 * The worker side of one builder (Buildbot's WorkerForBuilder): owns the
 * builder directory and runs the master's commands for it.
 *
 * Commands are keyed by id and may overlap: Buildbot's master starts several at once
 * (MultipleFileUpload globs all its sources in parallel). buildbot-worker keeps a single
 * slot, but its fast commands finish inside `startCommand`, so they never collide there;
 * ours are asynchronous, so dropping the "leftover" would leave the master waiting forever.
 */
import { mkdirSync } from 'node:fs';
import type { RemoteObjects, WorkerSettings } from '../commands/command.js';
import { createCommand } from '../commands/registry.js';
import type { BatcherOptions } from '../updates/batcher.js';
import { logMessage } from '../util/log.js';
import { pyJoin } from '../util/pypath.js';
import { CommandUpdates, type MasterCommandRef, RunningCommand } from './running-command.js';

export interface BuilderEnvironment {
  workerBasedir: string;
  remotes: RemoteObjects;
  settings?: WorkerSettings;
  batching?: BatcherOptions;
}

export class WorkerForBuilder {
  private builddirName = '';
  private readonly running = new Map<string, RunningCommand>();

  constructor(
    readonly name: string,
    private readonly environment: BuilderEnvironment,
  ) {}

  get builddir(): string {
    return this.builddirName;
  }

  /** The builder directory: worker base directory joined with builddir. */
  get basedir(): string {
    return pyJoin(this.environment.workerBasedir, this.builddirName);
  }

  /** Sets (or moves) the builder directory and creates it. */
  setBuilddir(builddir: string): void {
    this.builddirName = builddir;
    mkdirSync(this.basedir, { recursive: true });
  }

  get busy(): boolean {
    return this.running.size > 0;
  }

  /** Resolves when no command runs any more. */
  async whenIdle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  print(message: string): void {
    logMessage(`message from master to builder ${this.name}: ${message}`);
  }

  /** Called before the first step of every build; nothing to do. */
  startBuild(): void {}

  /**
   * Starts a command and returns once it is running (fast commands may already
   * have sent their updates); `done` of the result settles when it is over, the
   * moment to release the master's references. Throws UnknownCommandError /
   * MissingArgsError / other WorkerFailures for the error answer to `startCommand`.
   */
  startCommand(ref: MasterCommandRef, commandId: string, commandName: string, args: unknown): RunningCommand {
    if (this.running.has(commandId)) {
      logMessage(`builder ${this.name}: command id ${commandId} reused, dropping the old one`);
      this.running.get(commandId)!.stop();
      this.running.delete(commandId);
    }
    const label = `${this.name} command ${commandName} [id ${commandId}]`;
    const updates = new CommandUpdates(ref, label, this.environment.batching);
    const command = createCommand(commandName, args, {
      host: updates,
      builderDir: this.basedir,
      workerBasedir: this.environment.workerBasedir,
      remotes: this.environment.remotes,
      settings: this.environment.settings,
    });
    logMessage(`builder ${this.name}: startCommand ${commandName} [id ${commandId}]`);
    const running = new RunningCommand(commandId, commandName, command, updates);
    this.running.set(commandId, running);
    running.done.finally(() => {
      if (this.running.get(commandId) === running) this.running.delete(commandId);
    });
    return running;
  }

  interruptCommand(commandId: string, why: string): void {
    logMessage(`builder ${this.name}: asked to interrupt command ${commandId}: ${why}`);
    const running = this.running.get(commandId);
    if (!running) {
      logMessage(' .. but no such command is running');
      return;
    }
    running.interrupt();
  }

  /** Kills the running commands without reporting anything (connection lost, builder removed). */
  stopCommand(): void {
    const all = [...this.running.values()];
    this.running.clear();
    for (const running of all) running.stop();
  }
}
