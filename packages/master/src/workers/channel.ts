// What the build runner needs from a connected worker, independent of the wire protocol.
// The PB connection (workers/pb/) implements it for Buildbot and Lathe workers alike; a
// future protocol only has to implement this interface to run builds.
import type { WorkerConnection } from './worker.js';

/** Receives what a worker reports about one running command. */
export interface CommandSink {
  /**
   * One update key and its value (`stdout`, `stderr`, `header`, `log`, `rc`, `elapsed`, …).
   * Settles once the update is stored: the worker's `update` call is answered only then,
   * which is what slows a worker down when we fall behind.
   */
  update(key: string, value: unknown): Promise<unknown>;
  /** The command ended; `failure` is set when it raised inside the worker. */
  complete(failure: Error | null): void;
}

export interface WorkerChannel extends WorkerConnection {
  readonly workerName: string;
  /** What the worker said about itself at login (`getWorkerInfo`), minus its environment. */
  readonly info: Readonly<Record<string, unknown>>;
  readonly connected: boolean;
  /** True once the worker was told about this builder (setBuilderList) and can run its builds. */
  hasBuilder(builderName: string): boolean;
  /** The liveness check Buildbot does before each build; rejects if the worker does not answer. */
  ping(): Promise<void>;
  /** Tells the worker's builder a build begins (`startBuild`). */
  startBuild(builderName: string): Promise<void>;
  /**
   * Starts a command on the worker's builder. Resolves once the worker accepted it; the
   * sink may receive updates even before that.
   */
  startCommand(
    builderName: string,
    commandId: string,
    commandName: string,
    args: Readonly<Record<string, unknown>>,
    sink: CommandSink,
  ): Promise<void>;
  interruptCommand(builderName: string, commandId: string, why: string): Promise<void>;
  /** Runs `callback` once when the connection is gone; returns an unsubscribe function. */
  onDisconnect(callback: (reason: string) => void): () => void;
  /** Asks the worker process to exit (Buildbot's `shutdown`). */
  shutdown(): Promise<void>;
}

export function isWorkerChannel(conn: WorkerConnection | null): conn is WorkerChannel {
  return (
    conn !== null &&
    typeof (conn as Partial<WorkerChannel>).startCommand === 'function' &&
    typeof (conn as Partial<WorkerChannel>).onDisconnect === 'function'
  );
}

/** The worker's connection went away while it had work. Builds end RETRY on this. */
export class WorkerLostError extends Error {
  override readonly name = 'WorkerLostError';
  constructor(
    readonly worker: string,
    readonly reason: string,
  ) {
    super(`worker ${worker} lost: ${reason}`);
  }
}
