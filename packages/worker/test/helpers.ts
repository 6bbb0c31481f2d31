/** Test helpers: run commands against real files and processes, record what they say. */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { RemoteObjects, RemoteReader, RemoteWriter, WorkerSettings } from '../src/commands/command.js';
import { createCommand } from '../src/commands/registry.js';
import type { WorkerFailure } from '../src/protocol/failure.js';
import type { Update } from '../src/protocol/values.js';
import { setLogSink } from '../src/util/log.js';

setLogSink(() => {});

/** A fresh directory removed after the test file. */
export function tempDir(prefix = 'lathe-worker-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface CommandResult {
  updates: Update[];
  failure: WorkerFailure | null;
}

export interface RunningTestCommand {
  updates: Update[];
  interrupt(): void;
  result: Promise<CommandResult>;
}

const noRemotes: RemoteObjects = {
  writer: () => {
    throw new Error('no writer in this test');
  },
  reader: () => {
    throw new Error('no reader in this test');
  },
};

export interface StartOptions {
  builderDir: string;
  workerBasedir?: string;
  remotes?: RemoteObjects;
  settings?: WorkerSettings;
}

/** Starts a command with an unbatched host that records every update in order. */
export function startCommand(
  name: string,
  args: Record<string, unknown>,
  options: StartOptions,
): RunningTestCommand {
  const updates: Update[] = [];
  const command = createCommand(name, args, {
    host: { sendUpdate: (u) => updates.push(...u) },
    builderDir: options.builderDir,
    workerBasedir: options.workerBasedir ?? options.builderDir,
    remotes: options.remotes ?? noRemotes,
    settings: options.settings,
  });
  const result = command.run().then((failure) => ({ updates, failure }));
  return { updates, interrupt: () => command.doInterrupt(), result };
}

export function runCommand(
  name: string,
  args: Record<string, unknown>,
  options: StartOptions,
): Promise<CommandResult> {
  return startCommand(name, args, options).result;
}

/** Values of all updates with `key`, in order. */
export function valuesOf(updates: Update[], key: string): unknown[] {
  return updates.filter(([k]) => k === key).map(([, v]) => v);
}

/** All text of a text key, concatenated. */
export function textOf(updates: Update[], key: string): string {
  return valuesOf(updates, key).join('');
}

export function keysOf(updates: Update[]): string[] {
  return updates.map(([k]) => k);
}

/** A FileWriter stand-in that records the calls a master would receive. */
export class RecordingWriter implements RemoteWriter {
  readonly calls: Array<[string, unknown?]> = [];
  readonly chunks: Uint8Array[] = [];
  failWrites = false;

  async write(data: Uint8Array): Promise<void> {
    this.calls.push(['write', data.length]);
    if (this.failWrites) throw new Error('disk full on the master');
    this.chunks.push(Uint8Array.from(data));
  }
  async utime(times: unknown): Promise<void> {
    this.calls.push(['utime', times]);
  }
  async close(): Promise<void> {
    this.calls.push(['close']);
  }
  async unpack(): Promise<void> {
    this.calls.push(['unpack']);
  }
  get data(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** A FileReader stand-in serving fixed content, as the master's FileReader does. */
export class FixedReader implements RemoteReader {
  readonly calls: Array<[string, unknown?]> = [];
  private offset = 0;
  private closed = false;

  constructor(private readonly content: Uint8Array) {}

  async read(maxLength: number): Promise<Uint8Array | string> {
    this.calls.push(['read', maxLength]);
    if (this.closed) return '';
    const chunk = this.content.subarray(this.offset, this.offset + maxLength);
    this.offset += chunk.length;
    return chunk;
  }
  async close(): Promise<void> {
    this.calls.push(['close']);
    this.closed = true;
  }
}

export function remotesFor(objects: { writer?: RemoteWriter; reader?: RemoteReader }): RemoteObjects {
  return {
    writer: (ref) => {
      if (ref !== 'writer-ref' || !objects.writer) throw new Error(`unexpected writer ref ${String(ref)}`);
      return objects.writer;
    },
    reader: (ref) => {
      if (ref !== 'reader-ref' || !objects.reader) throw new Error(`unexpected reader ref ${String(ref)}`);
      return objects.reader;
    },
  };
}

export const isRoot = process.getuid?.() === 0;

/**
 * A directory in which creating entries fails with a permission error. Root
 * ignores file modes, so for root this is sysfs, which refuses new entries.
 */
export function unwritableDir(): string {
  if (isRoot) return '/sys';
  const dir = tempDir();
  chmodSync(dir, 0o555);
  after(() => chmodSync(dir, 0o755));
  return dir;
}
