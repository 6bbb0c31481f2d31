// A port the master is configured to listen on cannot be had. Said in terms of the
// configuration (which key, which address), because that is what the user changes.

const WHY: Record<string, string> = {
  EADDRINUSE: 'is already in use (another master or program listens there)',
  EACCES: 'needs privileges this user lacks (ports below 1024)',
  EADDRNOTAVAIL: 'is not an address of this machine',
};

export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(
    /** The config key that names the port, e.g. `workerPort`. */
    readonly configKey: string,
    readonly host: string,
    readonly port: number,
    readonly code: string,
  ) {
    super(
      `cannot listen on ${configKey} ${host}:${port}: it ${WHY[code] ?? `failed (${code})`}; ` +
        `change ${configKey} in the configuration or free the port`,
    );
  }
}

/** `err` as a ListenError when it is one of the listen failures a user can fix, else itself. */
export function asListenError(err: unknown, configKey: string, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code !== undefined && Object.hasOwn(WHY, code) ? new ListenError(configKey, host, port, code) : err;
}
