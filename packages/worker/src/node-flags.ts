/**
 * Node.js flags the worker process runs with (the daemon is started with them, and
 * `bin/lathe-worker.js` carries them in its shebang). A worker's garbage is short-lived
 * output text: a small young generation collects it just as fast and keeps resident
 * memory tens of MB lower while a step streams output.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
