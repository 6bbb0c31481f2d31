/**
 * Adapters from PB remote references (anything with `callRemote`) to the
 * promise-based objects commands use. They only need `callRemote`, so they
 * work with @lathe/pb's RemoteReference as it is.
 */
import type { RemoteObjects, RemoteReader, RemoteWriter } from '../commands/command.js';
import type { WorkerFailure } from '../protocol/failure.js';
import type { PyTuple } from '../protocol/values.js';
import type { MasterCommandRef } from '../worker/running-command.js';

/** The part of a PB RemoteReference the worker uses. */
export interface CallableRef {
  callRemote(method: string, ...args: unknown[]): Promise<unknown>;
}

function asCallable(ref: unknown, what: string): CallableRef {
  if (typeof (ref as CallableRef | null)?.callRemote !== 'function') {
    throw new TypeError(`${what} is not a remote reference`);
  }
  return ref as CallableRef;
}

export function remoteWriter(ref: unknown): RemoteWriter {
  const r = asCallable(ref, "the 'writer' argument");
  return {
    write: async (data: Uint8Array) => void (await r.callRemote('write', data)),
    utime: async (accessedModified: PyTuple) => void (await r.callRemote('utime', accessedModified)),
    close: async () => void (await r.callRemote('close')),
    unpack: async () => void (await r.callRemote('unpack')),
  };
}

export function remoteReader(ref: unknown): RemoteReader {
  const r = asCallable(ref, "the 'reader' argument");
  return {
    read: async (maxLength: number) => {
      const data = await r.callRemote('read', maxLength);
      if (data instanceof Uint8Array || typeof data === 'string') return data;
      throw new TypeError(`the master's reader answered ${typeof data}, expected bytes`);
    },
    close: async () => void (await r.callRemote('close')),
  };
}

/** `remotes` for the Bot: transfer args carry PB references. */
export const callableRemoteObjects: RemoteObjects = { writer: remoteWriter, reader: remoteReader };

/**
 * The master's RemoteCommand. `toFailure` wraps a WorkerFailure for the wire
 * (with @lathe/pb: `(f) => new CopyableFailure(f, true)`).
 */
export function masterCommandRef(
  ref: unknown,
  toFailure: (failure: WorkerFailure) => unknown,
): MasterCommandRef {
  const r = asCallable(ref, 'the command reference');
  return {
    update: (wireUpdates) => r.callRemote('update', wireUpdates),
    complete: (failure) => r.callRemote('complete', failure ? toFailure(failure) : null),
  };
}
