// The control port: a PB server on the loopback interface, separate from the worker port,
// that serves ControlAvatar to clients that log in as CONTROL_USERNAME with the secret in
// `<basedir>/control.secret`. PB's challenge–response login means the secret itself never
// crosses the connection; the loopback-only listener and the 0600 secret file mean only
// the master's owner on this machine can use it. Any local user can still connect, so
// connections that have not logged in are held to a few, for a few seconds, and what they
// can make us log is rate-limited.
import {
  listen,
  PasswordChecker,
  type PBServer,
  Portal,
  type PreLoginOptions,
  RateLimitedLogger,
} from '@lathe/pb';
import { ControlAvatar, type ControlTarget } from './avatar.js';
import { CONTROL_USERNAME } from './protocol.js';

export interface ControlServerOptions {
  readonly secret: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port (published in `control.json`). */
  readonly port?: number;
  /**
   * Where the control port's warnings go (refused logins, protocol errors, cut connections),
   * each prefixed `control: `; at most 20 a minute of those a peer that has not logged in
   * causes. Default: stderr.
   */
  readonly log?: (line: string) => void;
  /** Limits on connections that have not logged in; defaults in {@link CONTROL_PRE_LOGIN}. */
  readonly preLogin?: PreLoginOptions;
}

/**
 * A `lathe` command logs in at once: a handful of connections and 10 s is plenty. pb's
 * defaults hold for the rest (4 KiB per element, 16 calls before login).
 */
export const CONTROL_PRE_LOGIN: Readonly<PreLoginOptions> = Object.freeze({
  maxConnections: 16,
  maxConnectionsPerSource: 16,
  loginTimeoutMs: 10_000,
});

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
  const log = options.log ?? ((line: string) => console.warn(line));
  const logger = { warn: (m: string) => log(`control: ${m}`) };
  const untrusted = new RateLimitedLogger(logger);
  return listen({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    portal,
    logger,
    preLogin: { ...CONTROL_PRE_LOGIN, logger: untrusted, ...options.preLogin },
    onLoginFailed: (username) =>
      untrusted.warn(`refused a login as ${JSON.stringify(username?.slice(0, 100) ?? null)}`),
  });
}
