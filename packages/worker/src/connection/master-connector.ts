/**
 * The seam between the worker and the PB transport. The worker service only
 * needs "connect and log in, with this Bot as the mind" and a session it can
 * send keepalives and shutdown requests on; `pb-connector.ts` provides it.
 */
import type { Bot } from '../worker/bot.js';

export interface ConnectTarget {
  host: string;
  port: number;
  /** Worker name: the PB username. */
  name: string;
  password: string;
  useTls: boolean;
  /** PEM file of the CA (or self-signed certificate) to trust for TLS; default: the system's CAs. */
  tlsCaFile?: string | null;
}

/** A logged-in connection (the master's perspective for this worker). */
export interface MasterSession {
  /** `perspective.keepalive()` */
  keepalive(): Promise<void>;
  /** `perspective.shutdown()`: ask the master to shut this worker down when idle. */
  requestShutdown(): Promise<void>;
  /** Resolves when the connection is gone (with the reason, if it was an error). */
  readonly closed: Promise<Error | undefined>;
  /** Drops the connection. */
  close(): void;
}

export interface MasterConnector {
  /**
   * Connects, logs in as `target.name` with `bot` as the mind (serving the
   * master's calls on it during login), and resolves once attached.
   * Rejects with MasterUnreachableError, LoginRefusedError or another error.
   */
  connect(target: ConnectTarget, bot: Bot): Promise<MasterSession>;
}

/** The master could not be reached at all (DNS, refused, timeout, TLS). */
export class MasterUnreachableError extends Error {
  override readonly name = 'MasterUnreachableError';
  constructor(
    readonly target: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach the master at ${target}: ${reason}`, options);
  }
}

/** The master answered but refused the worker name or password. */
export class LoginRefusedError extends Error {
  override readonly name = 'LoginRefusedError';
  constructor(
    readonly workerName: string,
    readonly target: string,
    detail?: string,
  ) {
    super(
      `the master at ${target} refused the login of worker '${workerName}'` +
        `${detail ? ` (${detail})` : ''}: check the worker name and password in worker.json`,
    );
  }
}

/** Something no retry can fix (e.g. the protocol is not available in this build). */
export class FatalConnectionError extends Error {
  override readonly name = 'FatalConnectionError';
}
