// Which process runs a worker directory: @lathe/daemon's pid files, told how a worker's
// command line looks (the `lathe-worker` launcher, or cli.js run directly).
import type { DaemonIdentity } from '@lathe/daemon';

export const WORKER_DAEMON: DaemonIdentity = { what: 'a lathe-worker', cmdline: /lathe-worker|cli\.js/ };
