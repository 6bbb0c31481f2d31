// What a step sees while it runs (StepContext): its logs, the build's properties, and
// commands on the build's worker. A build stop interrupts the step's running commands; a
// lost worker fails them with WorkerLostError.
import { ConnectionLostError } from '@lathe/pb';
import type { RemoteCommand, RemoteCommandOutcome, StepContext, StepLog } from '../config/steps.js';
import type { DataLayer } from '../data/index.js';
import { LogWriter, type LogWriterOptions } from '../logs/writer.js';
import { type WorkerChannel, WorkerLostError } from '../workers/channel.js';
import { CommandRun } from './command.js';

/** What a step needs from the build it belongs to. */
export interface StepHost {
  readonly data: DataLayer;
  readonly channel: WorkerChannel;
  readonly builderName: string;
  readonly buildNumber: number;
  readonly workerName: string;
  readonly logOptions: LogWriterOptions;
  getProperty(name: string): unknown;
  setProperty(name: string, value: unknown, source: string): void;
  /** Why the build was stopped, if it was. */
  readonly stopReason: string | null;
}

/** The build was stopped before this command could start. */
export class BuildStoppedError extends Error {
  override readonly name = 'BuildStoppedError';
  constructor(readonly reason: string) {
    super(`build stopped: ${reason}`);
  }
}

export class StepRun implements StepContext {
  readonly #logs = new Map<string, Promise<LogWriter>>();
  readonly #commands = new Set<CommandRun>();

  constructor(
    private readonly host: StepHost,
    readonly stepid: number,
    /** Aborted when the build is stopped while this step runs. */
    readonly signal: AbortSignal,
  ) {}

  get builderName(): string {
    return this.host.builderName;
  }
  get buildNumber(): number {
    return this.host.buildNumber;
  }
  get workerName(): string {
    return this.host.workerName;
  }
  /** The worker's info (`getWorkerInfo`): commands and versions, os, basedir… */
  get workerInfo(): Readonly<Record<string, unknown>> {
    return this.host.channel.info;
  }

  getProperty(name: string): unknown {
    return this.host.getProperty(name);
  }

  setProperty(name: string, value: unknown, source: string): void {
    this.host.setProperty(name, value, source);
  }

  /** The step's log of that name, created on first use (stdio type: o/e/h lines). */
  addLog(name: string): Promise<StepLog> {
    return this.#log(name);
  }

  #log(name: string): Promise<LogWriter> {
    let log = this.#logs.get(name);
    if (!log) {
      log = this.host.data.logs
        .add(this.stepid, name, 's')
        .then((logid) => new LogWriter(this.host.data.logs, logid, this.host.logOptions));
      this.#logs.set(name, log);
    }
    return log;
  }

  async runCommand(command: RemoteCommand): Promise<RemoteCommandOutcome> {
    const { channel } = this.host;
    const signal = this.signal;
    if (!channel.connected) throw new WorkerLostError(this.host.workerName, 'not connected');
    if (signal.aborted) throw new BuildStoppedError(this.host.stopReason ?? 'stopped');
    const stdio = command.logName ? await this.#log(command.logName) : null;
    const logfiles = command.args.logfiles;
    const watched = new Set(logfiles && typeof logfiles === 'object' ? Object.keys(logfiles) : []);
    const named = async (n: string) => (watched.has(n) ? this.#log(n) : null);
    const run = new CommandRun(command.name, { stdio, named }, !!command.collectStdout);
    this.#commands.add(run);
    const offLost = channel.onDisconnect((reason) =>
      run.abort(new WorkerLostError(this.host.workerName, reason)),
    );
    let started = false;
    let interruptWanted = false;
    const interrupt = () => {
      run.interrupted = true;
      channel
        .interruptCommand(this.host.builderName, run.id, this.host.stopReason ?? 'build stopped')
        .catch(() => {
          // Nothing to do: the worker is gone (handled by offLost) or the command already ended.
        });
    };
    // Interrupting a command the worker has not accepted yet would be lost on it.
    const onAbort = () => {
      if (started) interrupt();
      else interruptWanted = true;
    };
    signal.addEventListener('abort', onAbort);
    try {
      try {
        await channel.startCommand(this.host.builderName, run.id, command.name, command.args, run);
      } catch (err) {
        if (err instanceof ConnectionLostError || !channel.connected) {
          throw new WorkerLostError(this.host.workerName, 'connection lost while starting a command');
        }
        throw err;
      }
      started = true;
      if (interruptWanted) interrupt();
      return await run.done;
    } finally {
      signal.removeEventListener('abort', onAbort);
      offLost();
      this.#commands.delete(run);
    }
  }

  async setState(text: string): Promise<void> {
    await this.host.data.steps.setState(this.stepid, text);
  }

  async addUrl(name: string, url: string): Promise<void> {
    await this.host.data.steps.addUrl(this.stepid, name, url);
  }

  /** Flushes and closes every log of the step. */
  async finish(): Promise<void> {
    for (const log of this.#logs.values()) {
      const writer = await log.catch(() => null);
      await writer?.finish();
    }
  }
}
