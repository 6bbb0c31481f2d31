// Connects `lathe` to a running master's control port and logs in. Every way that can
// fail ends in an error a user can act on: the master is not running, it runs but cannot be
// reached (and why), or it refused our secret.
import { ConnectError, connect, type PBConnection, RemoteError, type RemoteReference } from '@lathe/pb';
import { CONTROL_USERNAME } from '../control/protocol.js';
import { isMasterProcess } from './daemon/master-process.js';
import { type MasterDir, readControlEndpoint, readSecret } from './masterdir.js';

export class MasterNotRunningError extends Error {
  override readonly name = 'MasterNotRunningError';
  constructor(
    readonly basedir: string,
    readonly detail: string,
  ) {
    super(`master not running at ${basedir} (${detail}); start it with: lathe start ${basedir}`);
  }
}

/** The master's process lives, but its control port cannot be reached for another reason than "refused". */
export class ControlUnreachableError extends Error {
  override readonly name = 'ControlUnreachableError';
  constructor(
    readonly basedir: string,
    readonly pid: number,
    readonly endpoint: string,
    readonly detail: string,
  ) {
    super(
      `the master at ${basedir} runs (pid ${pid}), but its control port ${endpoint} cannot be reached: ${detail}`,
    );
  }
}

export class ControlAuthError extends Error {
  override readonly name = 'ControlAuthError';
  constructor(
    readonly basedir: string,
    readonly secretFile: string,
  ) {
    super(
      `the master at ${basedir} refused the control secret in ${secretFile} ` +
        '(was the file replaced while the master runs? restart the master to reload it)',
    );
  }
}

export interface ControlSession {
  readonly connection: PBConnection;
  readonly avatar: RemoteReference;
  readonly pid: number;
  close(): void;
}

export async function openControl(dir: MasterDir, timeoutMs = 10_000): Promise<ControlSession> {
  const endpoint = readControlEndpoint(dir.controlFile);
  if (!endpoint) throw new MasterNotRunningError(dir.basedir, `no ${dir.controlFile}`);
  if (!isMasterProcess(endpoint.pid))
    throw new MasterNotRunningError(dir.basedir, `process ${endpoint.pid} is gone`);
  const secret = readSecret(dir.secretFile);
  let connection: PBConnection;
  try {
    connection = await connect({ host: endpoint.host, port: endpoint.port, timeoutMs });
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    const where = `${endpoint.host}:${endpoint.port}`;
    // Refused: nothing listens, so the process in the pid file is not (or no longer) serving.
    if ((err.cause as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED')
      throw new MasterNotRunningError(dir.basedir, `nothing answers on ${where}`);
    const cause = err.cause instanceof Error ? err.cause.message : String(err.cause);
    throw new ControlUnreachableError(dir.basedir, endpoint.pid, where, cause);
  }
  try {
    const avatar = await connection.login(CONTROL_USERNAME, secret);
    return { connection, avatar, pid: endpoint.pid, close: () => connection.close() };
  } catch (err) {
    connection.close();
    if (err instanceof RemoteError && err.check('twisted.cred.error.UnauthorizedLogin'))
      throw new ControlAuthError(dir.basedir, dir.secretFile);
    throw err;
  }
}

/** The message of an error the master raised on purpose (pb.Error), without the type. */
export function remoteMessage(err: unknown): string {
  if (err instanceof RemoteError) return err.remoteValue || err.remoteType;
  return err instanceof Error ? err.message : String(err);
}
