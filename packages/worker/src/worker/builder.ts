/**
 * The worker side of one builder (Buildbot's WorkerForBuilder): owns the
 * builder directory and runs one command at a time for it.
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
  private current: RunningCommand | undefined;

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
    return this.current !== undefined;
  }

  /** Resolves when no command runs any more. */
  async whenIdle(): Promise<void> {
    while (this.current) await this.current.done;
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
    if (this.current) {
      logMessage(`builder ${this.name}: leftover command, dropping it`);
      this.stopCommand();
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
    this.current = running;
    running.done.finally(() => {
      if (this.current === running) this.current = undefined;
    });
    return running;
  }

  interruptCommand(commandId: string, why: string): void {
    logMessage(`builder ${this.name}: asked to interrupt command ${commandId}: ${why}`);
    if (!this.current) {
      logMessage(' .. but none was running');
      return;
    }
    this.current.interrupt();
  }

  /** Kills the running command without reporting anything (connection lost, builder removed). */
  stopCommand(): void {
    const running = this.current;
    if (!running) return;
    this.current = undefined;
    running.stop();
  }
}
