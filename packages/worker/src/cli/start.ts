/**
 * `lathe-worker start`: run the worker in the background (default) or in the
 * foreground (`--nodaemon`). In the background case this process starts the
 * daemon, waits until it has connected (or clearly failed) and reports that.
 */

import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runningPid, seconds, UsageError } from '@lathe/daemon';
import { LOG_FILE, PID_FILE, readConfig } from '../config.js';
import { runWorker } from '../daemon/run-worker.js';
import { WORKER_DAEMON } from '../daemon/worker-process.js';
import { WORKER_NODE_FLAGS } from '../node-flags.js';
import type { ServiceEvent } from '../worker/worker-service.js';
import { dropNpmAdditions } from './npm-env.js';

export const startHelp = `Usage: lathe-worker start [options] [basedir]

Starts the worker of basedir (default: the current directory). By default it
runs in the background, writing worker.pid and a rotated worker.log; this
command waits until it has connected to the master and reports the outcome.

Options:
  --nodaemon        run in the foreground, logging to stdout (for systemd, containers)
  --wait <seconds>  how long to wait for the connection (default 15)
  -h, --help        show this help
`;

/** Messages from the daemon to the `start` command that launched it. */
type DaemonMessage = { type: 'event'; event: ServiceEvent } | { type: 'error'; message: string };

export async function startWorker(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      nodaemon: { type: 'boolean' },
      'daemon-child': { type: 'boolean' },
      wait: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out(startHelp);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError('start takes at most one basedir', startHelp);
  const basedir = resolve(positionals[0] ?? '.');
  const waitSeconds = seconds(values.wait, 15, '--wait', startHelp);

  // Builds inherit this environment (the daemon gets it from us): not npm's additions to it.
  dropNpmAdditions();
  // The worker process ends here: whatever handles are left must not keep it alive.
  if (values['daemon-child']) process.exit(await runAsDaemonChild(basedir));

  readConfig(basedir); // report configuration problems here, not in a log file
  const running = runningPid(join(basedir, PID_FILE), WORKER_DAEMON);
  if (running !== undefined) {
    out(`lathe-worker is already running in ${basedir} (pid ${running})`);
    return 1;
  }
  if (values.nodaemon) process.exit(await runWorker({ basedir, logToStdout: true }));
  return launchDaemon(basedir, waitSeconds, out);
}

async function runAsDaemonChild(basedir: string): Promise<number> {
  const tell = (message: DaemonMessage) => {
    // The starter disconnects once it has seen enough; a message racing with
    // that must not become an unhandled 'error' event.
    if (process.connected) process.send?.(message, undefined, {}, () => {});
  };
  try {
    return await runWorker({
      basedir,
      logToStdout: false,
      onEvent: (event) => tell({ type: 'event', event }),
    });
  } catch (err) {
    tell({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    return 1;
  }
}

function launchDaemon(basedir: string, waitSeconds: number, out: (line: string) => void): Promise<number> {
  const script = process.argv[1]!;
  const log = join(basedir, LOG_FILE);
  // Anything the daemon prints before its own logging is up (a crash) lands in its log.
  let logFd: number;
  try {
    logFd = openSync(log, 'a', 0o644);
  } catch (err) {
    out(`lathe-worker cannot write its log ${log}: ${(err as Error).message}`);
    return Promise.resolve(1);
  }
  const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, script, 'start', '--daemon-child', basedir], {
    cwd: basedir,
    detached: true,
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  closeSync(logFd);
  return new Promise((resolveExit) => {
    let settled = false;
    const finish = (code: number, lines: string[]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const line of lines) out(line);
      child.removeAllListeners();
      child.on('message', () => {}); // later progress messages are of no interest
      // Disconnecting from inside a 'message' handler trips Node.js over the
      // messages still queued; let the queue drain first.
      setImmediate(() => {
        if (child.connected) child.disconnect();
        child.unref();
      });
      resolveExit(code);
    };
    const timer = setTimeout(
      () =>
        finish(0, [
          `lathe-worker started (pid ${child.pid}) but has not connected to the master within ${waitSeconds} s;`,
          `it keeps trying in the background — see ${log}`,
        ]),
      waitSeconds * 1000,
    );
    child.on('message', (message: DaemonMessage) => {
      if (message.type === 'error') {
        finish(1, [`lathe-worker failed to start: ${message.message}`]);
        return;
      }
      const event = message.event;
      if (event.kind === 'connected') {
        finish(0, [`lathe-worker started (pid ${child.pid}) and connected to the master`]);
      } else if (event.kind === 'login-refused') {
        finish(1, [
          `lathe-worker started (pid ${child.pid}), but ${event.message}.`,
          `It retries slowly in the background; fix worker.json, then run: lathe-worker restart ${basedir}`,
        ]);
      } else if (event.kind === 'unreachable') {
        finish(0, [
          `lathe-worker started (pid ${child.pid}), but ${event.message};`,
          `it keeps trying in the background — see ${log}`,
        ]);
      } else if (event.kind === 'fatal') {
        // The daemon is on its way out: report once it is gone (pid file removed).
        const lines = [`lathe-worker could not start: ${event.message}`];
        child.removeAllListeners('exit');
        child.once('exit', () => finish(1, lines));
        setTimeout(() => finish(1, lines), 5000).unref();
      }
    });
    child.on('exit', (code) =>
      finish(code || 1, [
        `lathe-worker exited during start-up (status ${code}); the end of ${log}:`,
        ...tail(log, 10),
      ]),
    );
    child.on('error', (err) => finish(1, [`cannot start lathe-worker: ${err.message}`]));
  });
}

/** The last lines of a file, indented, for error messages. */
function tail(path: string, lines: number): string[] {
  try {
    return readFileSync(path, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((line) => `  ${line}`);
  } catch {
    return [];
  }
}
