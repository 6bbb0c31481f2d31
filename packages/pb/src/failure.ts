/**
 * Errors across the wire.
 *
 * A remote method that fails answers with `['error', requestID, failure]`, where the
 * failure is a Copyable tagged `twisted.spread.pb.CopyableFailure` carrying the
 * exception's qualified class name (`type`, bytes), message (`value`), class
 * hierarchy (`parents`) and, when the sender allows it, the traceback text. On our
 * side that arrives as a {@link RemoteError}; errors we raise are sent in the same
 * form, so a Python caller sees an ordinary `CopiedFailure`.
 */

import { Copyable, InsecureJelly, registerRemoteCopy } from './jelly.js';

/** A Python-style qualified class name for an error we send (e.g. `builtins.ValueError`). */
export interface HasPythonType {
  pythonType?: string;
  pythonParents?: string[];
}

/** A failure raised by the peer. `remoteType` is the qualified class name there. */
export class RemoteError extends Error {
  override name = 'RemoteError';
  constructor(
    readonly remoteType: string,
    readonly remoteValue: string,
    readonly remoteTraceback: string,
    readonly parents: string[],
  ) {
    super(remoteValue ? `${remoteType}: ${remoteValue}` : remoteType);
  }
  /** True if the remote exception is (a subclass of) one of the named classes. */
  check(...qualifiedNames: string[]): boolean {
    return qualifiedNames.some((n) => n === this.remoteType || this.parents.includes(n));
  }
  /** Keeps the remote identity when re-raised locally and sent on to another peer. */
  get pythonType(): string {
    return this.remoteType;
  }
  get pythonParents(): string[] {
    return this.parents;
  }
}

/** The connection closed while a call was outstanding. Twisted's `pb.PBConnectionLost`. */
export class ConnectionLostError extends Error {
  override name = 'ConnectionLostError';
  readonly pythonType = 'twisted.spread.pb.PBConnectionLost';
}

/** A broken protocol rule; the connection it came from is dropped. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** Twisted's `pb.Error`: an error meant to be seen by the caller. */
export class PBError extends Error {
  override name = 'PBError';
  readonly pythonType: string = 'twisted.spread.pb.Error';
}

/** No remote method of that name. Twisted's `flavors.NoSuchMethod`. */
export class NoSuchMethod extends Error {
  override name = 'NoSuchMethod';
  readonly pythonType = 'twisted.spread.flavors.NoSuchMethod';
}

/** Login refused. Deliberately says nothing about why. */
export class UnauthorizedLogin extends Error {
  override name = 'UnauthorizedLogin';
  readonly pythonType = 'twisted.cred.error.UnauthorizedLogin';
  constructor() {
    super('');
  }
}

/** No checker handles the offered kind of credentials. */
export class UnhandledCredentials extends Error {
  override name = 'UnhandledCredentials';
  readonly pythonType = 'twisted.cred.error.UnhandledCredentials';
}

export const COPYABLE_FAILURE_TAG = 'twisted.spread.pb.CopyableFailure';

const JS_TO_PYTHON: Record<string, string> = {
  Error: 'builtins.Exception',
  TypeError: 'builtins.TypeError',
  RangeError: 'builtins.ValueError',
  SyntaxError: 'builtins.SyntaxError',
  ReferenceError: 'builtins.NameError',
};

let failureCount = 0;

/** The wire form of an error we raise: what Twisted's `CopyableFailure` sends. */
export class CopyableFailure extends Copyable {
  static override copyTag = COPYABLE_FAILURE_TAG;
  constructor(
    readonly error: unknown,
    readonly unsafeTracebacks: boolean,
  ) {
    super();
  }
  override getStateToCopy(): Record<string, unknown> {
    const err = this.error as (Error & HasPythonType) | undefined;
    const type =
      err?.pythonType ??
      (err instanceof Error ? (JS_TO_PYTHON[err.name] ?? `lathe.${err.name}`) : 'builtins.Exception');
    const parents = [
      ...new Set([
        type,
        ...(err?.pythonParents ?? []),
        'builtins.Exception',
        'builtins.BaseException',
        'builtins.object',
      ]),
    ];
    const message = err instanceof Error ? err.message : String(this.error);
    const traceback =
      this.unsafeTracebacks && err instanceof Error && err.stack
        ? `${err.stack}\n`
        : 'Traceback unavailable\n';
    // Key order matches Twisted's, so Python peers see the same dict they would build.
    return {
      count: ++failureCount,
      type: Buffer.from(type, 'utf8'),
      value: message,
      captureVars: false,
      frames: [],
      stack: [],
      tb: null,
      parents,
      unsafeTracebacks: this.unsafeTracebacks,
      traceback,
    };
  }
}

/** How an incoming CopyableFailure is rebuilt: as a RemoteError. */
class CopiedFailure {
  error?: RemoteError;
  setCopyableState(state: unknown): void {
    if (!state || typeof state !== 'object') throw new InsecureJelly('CopyableFailure: state is not a dict');
    const s = state as Record<string, unknown>;
    const text = (v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v == null ? '' : String(v);
    const parents = Array.isArray(s.parents) ? s.parents.map(text) : [];
    this.error = new RemoteError(text(s.type), text(s.value), text(s.traceback), parents);
  }
}

registerRemoteCopy(COPYABLE_FAILURE_TAG, CopiedFailure);

/** Turns whatever a peer sent in an `error` message into an Error. */
export function errorFromFailure(value: unknown): Error {
  if (value instanceof CopiedFailure && value.error) return value.error;
  if (value instanceof Error) return value;
  return new RemoteError('unknown', typeof value === 'string' ? value : 'non-failure error value', '', []);
}
