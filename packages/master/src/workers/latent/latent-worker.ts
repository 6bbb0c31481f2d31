// What a user configures for a worker the master starts on demand: the worker's identity
// and slot settings (as for any worker), the timings of its life, and how to start and
// stop one instance of it. Subclass LatentWorker in master.config.ts, or use
// commandLatentWorker / dockerLatentWorker.

/** Handed to start() and stop(): who the instance must log in as, and where. */
export interface LatentInstanceContext {
  readonly workerName: string;
  /** The worker's password: pass it through the environment or a file, never argv or a log. */
  readonly password: string;
  /** Where the instance reaches the worker port, `host:port` (the worker's `masterAddress`, else the master's own). */
  readonly masterAddress: string;
  readonly masterHost: string;
  readonly masterPort: number;
  /** Which start attempt this is, from 1; stop() gets the attempt it cleans up after. */
  readonly attempt: number;
  /** Aborted when the attempt timed out or the master stops; long operations should give up on it. */
  readonly signal: AbortSignal;
  /**
   * For a driver that watches its instance (a process it keeps, a container it follows): the
   * instance ended by itself. A start in progress fails at once; a running one is cleaned up.
   */
  readonly instanceGone?: (reason: string) => void;
}

export interface LatentStopContext extends LatentInstanceContext {
  /**
   * What start() resolved to for this instance, or undefined when start() did not finish
   * (it failed or timed out) or the instance was adopted (it connected without being started).
   */
  readonly handle: unknown;
}

export interface LatentWorkerOptions {
  readonly name: string;
  readonly password: string;
  readonly maxBuilds?: number;
  readonly properties?: Readonly<Record<string, unknown>>;
  readonly keepalive?: number;
  /** Seconds without a build after which the instance is stopped; default 600; 0: right after each build. */
  readonly buildWaitTimeout?: number;
  /** Seconds from start() until the worker must have logged in; default 600. */
  readonly startTimeout?: number;
  /**
   * Addresses the mail reporter sends this worker's worker-missing reports to (its admins):
   * a latent worker is reported missing when it could not be started `startAttempts` times.
   */
  readonly notifyOnMissing?: readonly string[];
  /** Start attempts in a row before the worker is reported missing; default 3. */
  readonly startAttempts?: number;
  /** Seconds before the second attempt; doubles for each further one; default 30. */
  readonly retryDelay?: number;
  /** Seconds after a missing report before the next round of attempts (if requests still wait); default 600. */
  readonly missingRetryDelay?: number;
  /** Seconds stop() may take before it is abandoned (and the failure logged); default 120. */
  readonly stopTimeout?: number;
  /** `host:port` the instance connects to, when it is not the master's own address (a container, a cloud VM). */
  readonly masterAddress?: string;
}

/** Distinguishes latent workers from plain ones across copies of this module (a config may load another). */
export const LATENT_WORKER: unique symbol = Symbol.for('lathe.latentWorker') as never;

export class LatentWorkerConfigError extends Error {
  override readonly name = 'LatentWorkerConfigError';
  constructor(
    readonly worker: string,
    readonly field: string,
    problem: string,
  ) {
    super(`latent worker ${JSON.stringify(worker)}: ${field} ${problem}`);
  }
}

/**
 * A worker that runs only while there is work for it. The master calls start() when build
 * requests wait for one of its builders and no other worker is free, waits for the worker to
 * log in over the worker port as usual (with `name`/`password`), and calls stop() once it has
 * been idle for `buildWaitTimeout`, when it lost its connection, after a failed start, and
 * when the master stops.
 */
export abstract class LatentWorker {
  readonly name: string;
  readonly password: string;
  readonly maxBuilds: number | undefined;
  readonly properties: Readonly<Record<string, unknown>> | undefined;
  readonly keepalive: number | undefined;
  readonly notifyOnMissing: readonly string[] | undefined;
  readonly buildWaitTimeout: number;
  readonly startTimeout: number;
  readonly startAttempts: number;
  readonly retryDelay: number;
  readonly missingRetryDelay: number;
  readonly stopTimeout: number;
  readonly masterAddress: string | undefined;
  declare readonly [LATENT_WORKER]: true;

  constructor(options: LatentWorkerOptions) {
    this.name = options.name;
    this.password = options.password;
    this.maxBuilds = options.maxBuilds;
    this.properties = options.properties;
    this.keepalive = options.keepalive;
    this.notifyOnMissing = options.notifyOnMissing;
    const seconds = (field: keyof LatentWorkerOptions, fallback: number, min: number): number => {
      const v = options[field] ?? fallback;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
        throw new LatentWorkerConfigError(
          options.name,
          field,
          `must be a number of seconds ≥ ${min}, got ${String(v)}`,
        );
      return v;
    };
    this.buildWaitTimeout = seconds('buildWaitTimeout', 600, 0);
    this.startTimeout = seconds('startTimeout', 600, 0.001);
    this.retryDelay = seconds('retryDelay', 30, 0);
    this.missingRetryDelay = seconds('missingRetryDelay', 600, 0);
    this.stopTimeout = seconds('stopTimeout', 120, 0.001);
    const attempts = options.startAttempts ?? 3;
    if (!Number.isInteger(attempts) || attempts < 1)
      throw new LatentWorkerConfigError(
        options.name,
        'startAttempts',
        `must be a positive integer, got ${String(attempts)}`,
      );
    this.startAttempts = attempts;
    if (options.masterAddress !== undefined && !/^[^\s:]+:\d+$/.test(options.masterAddress))
      throw new LatentWorkerConfigError(
        options.name,
        'masterAddress',
        `must be host:port, got ${JSON.stringify(options.masterAddress)}`,
      );
    this.masterAddress = options.masterAddress;
    // Not an own enumerable field: the config's fingerprint and validation see only settings.
    Object.defineProperty(this, LATENT_WORKER, { value: true });
  }

  /**
   * Launches one instance. Resolve once it is launched (the worker then logs in on its own);
   * what it resolves to comes back to stop() as `handle`. Reject when it cannot be launched.
   */
  abstract start(ctx: LatentInstanceContext): Promise<unknown>;

  /** Stops the instance and frees what it holds. Must cope with a half-started or already gone one. */
  abstract stop(ctx: LatentStopContext): Promise<void>;
}

export function isLatentWorker(value: unknown): value is LatentWorker {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[LATENT_WORKER] === true &&
    typeof (value as LatentWorker).start === 'function' &&
    typeof (value as LatentWorker).stop === 'function'
  );
}
