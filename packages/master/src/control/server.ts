// The control port: a PB server on the loopback interface, separate from the worker port,
// that serves ControlAvatar to clients that log in as CONTROL_USERNAME with the secret in
// `<basedir>/control.secret`. PB's challenge–response login means the secret itself never
// crosses the connection; the loopback-only listener and the 0600 secret file mean only
// the master's owner on this machine can use it.
import { listen, PasswordChecker, type PBServer, Portal } from '@lathe/pb';
import { ControlAvatar, type ControlTarget } from './avatar.js';
import { CONTROL_USERNAME } from './protocol.js';

export interface ControlServerOptions {
  readonly secret: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port (published in `control.json`). */
  readonly port?: number;
  readonly onLoginFailed?: (username: string | null) => void;
}

export async function startControlServer(
  target: ControlTarget,
  options: ControlServerOptions,
): Promise<PBServer> {
  const portal = new Portal(
    {
      requestAvatar: () => {
        const avatar = new ControlAvatar(target);
        return { avatar, logout: () => avatar.logout() };
      },
    },
    [new PasswordChecker({ [CONTROL_USERNAME]: options.secret })],
  );
  return listen({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    portal,
    ...(options.onLoginFailed ? { onLoginFailed: (u: string | null) => options.onLoginFailed?.(u) } : {}),
  });
}
