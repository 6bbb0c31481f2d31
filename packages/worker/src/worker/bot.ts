/**
 * The worker's "Bot": the object the worker hands to the master at login (the
 * PB mind). It answers worker info, keeps the builders in step with the
 * master's builder list and coordinates shutdown. The PB layer only has to
 * expose these methods as `remote_*`.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RemoteObjects, WorkerSettings } from '../commands/command.js';
import { commandVersions } from '../commands/registry.js';
import { BadArgsError } from '../protocol/failure.js';
import { pyRepr } from '../protocol/pyrepr.js';
import { decodeArgs } from '../protocol/values.js';
import type { BatcherOptions } from '../updates/batcher.js';
import { logMessage } from '../util/log.js';
import { WORKER_VERSION } from '../version.js';
import { WorkerForBuilder } from './builder.js';
import { workerInfo } from './worker-info.js';

export interface BotOptions {
  basedir: string;
  remotes: RemoteObjects;
  settings?: WorkerSettings;
  batching?: BatcherOptions;
  numcpus?: number | null;
  deleteLeftoverDirs?: boolean;
  osReleaseFile?: string;
  /** Called when the master asks the worker to shut down. */
  onShutdownRequested?: () => void;
}

export class Bot {
  private readonly builders = new Map<string, WorkerForBuilder>();

  constructor(private readonly options: BotOptions) {}

  print(message: string): void {
    logMessage(`message from master: ${message}`);
  }

  getWorkerInfo(): Record<string, unknown> {
    return workerInfo({
      basedir: this.options.basedir,
      numcpus: this.options.numcpus,
      deleteLeftoverDirs: this.options.deleteLeftoverDirs,
      environment: this.options.settings?.environment,
      osReleaseFile: this.options.osReleaseFile,
    });
  }

  getCommands(): Record<string, string> {
    return commandVersions();
  }

  getVersion(): string {
    return WORKER_VERSION;
  }

  /**
   * Makes the builders match `wanted` (pairs of builder name and builddir):
   * creates missing ones and their directories, moves changed ones, drops the
   * rest (stopping their commands). Returns every wanted builder by name; the
   * same object for a builder that already existed.
   */
  setBuilderList(builders: ReadonlyArray<readonly [string, string]>): Map<string, WorkerForBuilder> {
    const wanted = checkBuilderList(builders);
    const result = new Map<string, WorkerForBuilder>();
    for (const [name, builddir] of wanted) {
      let builder = this.builders.get(name);
      if (builder) {
        if (builder.builddir !== builddir) {
          logMessage(`changing builddir for builder ${name} from ${builder.builddir} to ${builddir}`);
          builder.setBuilddir(builddir);
        }
      } else {
        builder = new WorkerForBuilder(name, {
          workerBasedir: this.options.basedir,
          remotes: this.options.remotes,
          settings: this.options.settings,
          batching: this.options.batching,
        });
        builder.setBuilddir(builddir);
        this.builders.set(name, builder);
      }
      result.set(name, builder);
    }
    for (const [name, builder] of this.builders) {
      if (!result.has(name)) {
        builder.stopCommand();
        this.builders.delete(name);
      }
    }
    this.handleLeftoverDirs(new Set([...wanted.map(([, dir]) => dir), 'info']));
    return result;
  }

  /** The master asked us to stop (bot.shutdown()). */
  shutdown(): void {
    logMessage('worker shutting down on command from master');
    this.options.onShutdownRequested?.();
  }

  get busy(): boolean {
    return [...this.builders.values()].some((b) => b.busy);
  }

  /** Resolves when no builder runs a command: graceful shutdown waits for this. */
  async whenIdle(): Promise<void> {
    await Promise.all([...this.builders.values()].map((b) => b.whenIdle()));
  }

  /** Kills every running command silently (connection lost, worker stopping). */
  stopAllCommands(): void {
    for (const builder of this.builders.values()) builder.stopCommand();
  }

  private handleLeftoverDirs(wantedDirs: Set<string>): void {
    const basedir = this.options.basedir;
    if (!existsSync(basedir)) return;
    for (const name of readdirSync(basedir)) {
      const path = join(basedir, name);
      if (wantedDirs.has(name) || !isDirectory(path)) continue;
      if (this.options.deleteLeftoverDirs) {
        logMessage(`Deleting directory '${name}' that is not being used by the buildmaster`);
        try {
          rmSync(path, { recursive: true, force: true });
        } catch (err) {
          logMessage(
            `Cannot remove directory '${name}': ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      } else {
        logMessage(`I have a leftover directory '${name}' that is not being used by the buildmaster`);
      }
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The master's list as [name, builddir] text pairs (bytes decoded), or a BadArgsError. */
function checkBuilderList(builders: unknown): Array<[string, string]> {
  const decoded = decodeArgs(builders);
  if (!Array.isArray(decoded))
    throw new BadArgsError('setBuilderList expects a list of (name, builddir)', 'builtins.TypeError');
  return decoded.map((entry) => {
    if (
      !Array.isArray(entry) ||
      entry.length !== 2 ||
      typeof entry[0] !== 'string' ||
      typeof entry[1] !== 'string'
    ) {
      throw new BadArgsError(
        `setBuilderList: not a (name, builddir) pair: ${pyRepr(entry)}`,
        'builtins.ValueError',
      );
    }
    return [entry[0], entry[1]];
  });
}
