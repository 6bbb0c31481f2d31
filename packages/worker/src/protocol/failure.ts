/**
 * Errors that travel to the master. Buildbot reports worker-side exceptions as
 * Python failures: a dotted type name, the `str()` of the exception, the class
 * hierarchy and a traceback. A `WorkerFailure` carries exactly those fields so
 * the PB layer can turn it into a `CopyableFailure` without guessing.
 */
import { errnoInfo } from './errno.js';
import { reprText } from './pyrepr.js';

const exceptionBases = ['builtins.Exception', 'builtins.BaseException', 'builtins.object'];

export class WorkerFailure extends Error {
  override readonly name: string = 'WorkerFailure';
  /** Python class names from the type itself up to `builtins.object`. */
  readonly parents: string[];

  constructor(
    /** Dotted Python type name, e.g. `builtins.RuntimeError`. */
    readonly pyType: string,
    /** `str(exception)`, what the master shows as the failure's value. */
    message: string,
    parents: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.parents = [pyType, ...parents, ...exceptionBases];
  }

  /** For @lathe/pb's CopyableFailure, which reads these two names. */
  get pythonType(): string {
    return this.pyType;
  }
  get pythonParents(): string[] {
    return this.parents.slice(1);
  }

  /** The traceback text sent along (a JavaScript stack, or a placeholder). */
  get traceback(): string {
    return this.stack ? `Traceback (JavaScript):\n${this.stack}\n` : 'Traceback unavailable\n';
  }
}

/** `startCommand` with a command name the worker does not implement. */
export class UnknownCommandError extends WorkerFailure {
  override readonly name = 'UnknownCommandError';
  constructor(readonly command: string) {
    super('buildbot_worker.base.UnknownCommand', `unrecognized WorkerCommand ${reprText(command)}`, [
      'twisted.spread.pb.Error',
    ]);
  }
}

/** `startCommand` without an argument the command requires. */
export class MissingArgsError extends WorkerFailure {
  override readonly name = 'MissingArgsError';
  constructor(
    readonly command: string,
    readonly missing: string[],
  ) {
    super('builtins.ValueError', `${command} is missing args: ${missing.join(', ')}`);
  }
}

/** An argument with a value of the wrong kind (Python would raise on it). */
export class BadArgsError extends WorkerFailure {
  override readonly name = 'BadArgsError';
  constructor(message: string, pyType = 'builtins.RuntimeError') {
    super(pyType, message);
  }
}

/** Buildbot's "give up on this command" exception, carrying an rc. */
export class AbandonChainError extends WorkerFailure {
  override readonly name = 'AbandonChainError';
  constructor(
    readonly rc: number,
    message: string,
  ) {
    super('buildbot_worker.exceptions.AbandonChain', `(${rc}, ${reprText(message)})`);
  }
}

/** A process that would not die even after the interrupt signal. */
export class KillFailedError extends WorkerFailure {
  override readonly name = 'KillFailedError';
  constructor(signalName: string) {
    super('builtins.RuntimeError', `${signalName} failed to kill process`);
  }
}

/** Turns any thrown value into a WorkerFailure, as Python would name it. */
export function toWorkerFailure(err: unknown, path?: string): WorkerFailure {
  if (err instanceof WorkerFailure) return err;
  const info = errnoInfo(err);
  if (info) {
    const filename = path ?? (err as NodeJS.ErrnoException).path;
    const where = filename === undefined ? '' : `: ${reprText(filename)}`;
    const parents = info.pythonClass === 'OSError' ? [] : ['builtins.OSError'];
    return new WorkerFailure(
      `builtins.${info.pythonClass}`,
      `[Errno ${info.errno}] ${info.strerror}${where}`,
      parents,
      { cause: err },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new WorkerFailure('builtins.RuntimeError', message, [], { cause: err });
}
