// `lathe start`: run the master in the background (default) or in the foreground. In the
// background case this process spawns the daemon, waits until the master runs (or clearly
// failed, e.g. with the config error and its file:line) and reports that.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_LOG_COUNT, DEFAULT_LOG_SIZE, RotatingLog } from '@lathe/daemon';
import { DEFAULT_CONFIG_FILE } from '../../master.js';
import { runningMasterPid } from '../daemon/master-process.js';
import { missingMasterFlags, reexecWithMasterFlags } from '../daemon/node-flags.js';
import { describeError, runMaster } from '../daemon/run-master.js';
import { defaultRuntimeHooks } from '../daemon/runtime.js';
import { type MasterDir, masterDir } from '../masterdir.js';
import { atMostOneDir, type Command, EXIT, type Io, seconds, UsageError } from '../usage.js';
import { stopMaster } from './stop.js';

const help = `Usage: lathe start [options] [dir]

Starts the master of dir (default: the current directory). By default it runs in
the background, writing lathe.pid and a size-rotated lathe.log (lathe.log.1, …);
this command waits until the master runs and reports the outcome.

Signals the running master understands: SIGHUP reconfig, SIGTERM graceful stop
(waits for running builds), SIGINT stop cancelling running builds.

Options:
  --nodaemon          run in the foreground, logging to stdout (systemd, containers)
  --wait <seconds>    how long to wait for the master to come up (default 60)
  --log-size <bytes>  rotate lathe.log at this size (default ${DEFAULT_LOG_SIZE})
  --log-count <n>     rotated logs to keep (default ${DEFAULT_LOG_COUNT})
  -h, --help          show this help
`;

const mainScript = fileURLToPath(new URL('../main.js', import.meta.url));

/** Messages from the daemon to the `start` command that launched it. */
type DaemonMessage = { type: 'ready'; pid: number; controlPort: number } | { type: 'error'; message: string };

export interface DaemonOptions {
  readonly waitSeconds?: number;
  readonly logSize?: number;
  readonly logCount?: number;
}

const options = {
  nodaemon: { type: 'boolean' },
  'daemon-child': { type: 'boolean' },
  wait: { type: 'string' },
  'log-size': { type: 'string' },
  'log-count': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(argv: string[], helpText: string) {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options });
  const int = (v: string | undefined, name: string, fallback: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} needs a non-negative integer`, helpText);
    return n;
  };
  return {
    values,
    dir: masterDir(atMostOneDir(positionals, helpText)),
    daemon: {
      waitSeconds: seconds(values.wait, 60, '--wait', helpText),
      logSize: int(values['log-size'], '--log-size', DEFAULT_LOG_SIZE),
      logCount: int(values['log-count'], '--log-count', DEFAULT_LOG_COUNT),
    },
  };
}

export const startCommand: Command = {
  help,
  summary: 'start the master (in the background unless --nodaemon)',
  async run(argv, io) {
    const { values, dir, daemon } = parse(argv, help);
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    if (values['daemon-child']) return runAsDaemonChild(dir, daemon);
    if (!existsSync(join(dir.basedir, DEFAULT_CONFIG_FILE))) {
      io.err(
        `lathe start: ${dir.basedir} has no ${DEFAULT_CONFIG_FILE}; create one with: lathe create-master ${dir.basedir}`,
      );
      return EXIT.FAILED;
    }
    const running = runningMasterPid(dir.pidFile);
    if (running !== undefined) {
      io.err(`lathe start: a master is already running in ${dir.basedir} (pid ${running})`);
      return EXIT.FAILED;
    }
    if (values.nodaemon) {
      reexecWithMasterFlags();
      return runMaster({ dir, log: (line) => io.out(stamp(line)), hooks: await defaultRuntimeHooks() });
    }
    return startDaemon(dir, daemon, io);
  },
};

const restartHelp = `Usage: lathe restart [options] [dir]

Stops the master of dir (like 'lathe stop', waiting for running builds unless
--cancel) and starts it again in the background.

Options:
  --cancel            cancel running builds instead of waiting for them
  --timeout <seconds> how long to wait for the old master to exit before killing it (default 120)
  --wait <seconds>    how long to wait for the new master to come up (default 60)
  -h, --help          show this help
`;

export const restartCommand: Command = {
  help: restartHelp,
  summary: 'stop the master, then start it again',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        cancel: { type: 'boolean' },
        timeout: { type: 'string' },
        wait: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(restartHelp);
      return EXIT.OK;
    }
    const dir = masterDir(atMostOneDir(positionals, restartHelp));
    const stopped = await stopMaster(
      dir,
      {
        cancel: values.cancel ?? false,
        timeoutSeconds: seconds(values.timeout, 120, '--timeout', restartHelp),
      },
      io,
    );
    if (stopped !== EXIT.OK) return stopped;
    return startDaemon(dir, { waitSeconds: seconds(values.wait, 60, '--wait', restartHelp) }, io);
  },
};

export function stamp(line: string): string {
  return `${new Date().toISOString()} ${line}`;
}

/** Spawns the master in the background and waits until it runs or fails. */
export function startDaemon(dir: MasterDir, daemon: DaemonOptions, io: Io): Promise<number> {
  const args = [
    mainScript,
    'start',
    dir.basedir,
    '--daemon-child',
    '--log-size',
    String(daemon.logSize ?? DEFAULT_LOG_SIZE),
    '--log-count',
    String(daemon.logCount ?? DEFAULT_LOG_COUNT),
  ];
  // Output that escapes the log writer (a native crash) still lands in the log file.
  const stray = openSync(dir.logFile, 'a', 0o644);
  const child = spawn(process.execPath, [...missingMasterFlags(), ...process.execArgv, ...args], {
    cwd: dir.basedir,
    detached: true,
    stdio: ['ignore', stray, stray, 'ipc'],
  });
  closeSync(stray); // the child has its own copy
  const waitMs = (daemon.waitSeconds ?? 60) * 1000;
  return new Promise<number>((resolve) => {
    let settled = false;
    const settle = (code: number, message: string, toErr: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      (toErr ? io.err : io.out)(message);
      if (child.connected) child.disconnect();
      child.unref();
      resolve(code);
    };
    const timer = setTimeout(
      () =>
        settle(
          EXIT.FAILED,
          `lathe start: the master did not come up within ${waitMs / 1000}s; it may still be starting (see ${dir.logFile})`,
          true,
        ),
      waitMs,
    );
    child.on('message', (m: DaemonMessage) => {
      if (m.type === 'ready')
        settle(
          EXIT.OK,
          `master started in ${dir.basedir} (pid ${m.pid}, control port 127.0.0.1:${m.controlPort}); log: ${dir.logFile}`,
          false,
        );
      else settle(EXIT.FAILED, `lathe start: the master failed to start:\n${m.message}`, true);
    });
    child.on('exit', (code, signal) =>
      settle(
        EXIT.FAILED,
        `lathe start: the master exited during start-up (${signal ?? `status ${code}`}); see ${dir.logFile}`,
        true,
      ),
    );
    child.on('error', (err) =>
      settle(EXIT.FAILED, `lathe start: cannot spawn the master: ${err.message}`, true),
    );
  });
}

/** The daemon itself: logs to the rotating file, tells its parent when it is up. */
async function runAsDaemonChild(dir: MasterDir, daemon: DaemonOptions): Promise<number> {
  const file = new RotatingLog(dir.logFile, daemon.logSize, daemon.logCount);
  // A log that cannot be written (its disk is full) loses lines, never the master: a throw
  // here would escape from the error handlers below and end the process mid-line.
  let lost = 0;
  const log = (line: string) => {
    try {
      if (lost > 0) file.write(stamp(`${lost} log line(s) lost: the log could not be written`));
      lost = 0;
      file.write(stamp(line));
    } catch {
      lost++;
    }
  };
  // Everything the master or a library prints belongs in the log, not on a closed terminal.
  const toLog = (...args: unknown[]) =>
    log(args.map((a) => (typeof a === 'string' ? a : describeError(a))).join(' '));
  console.log = toLog;
  console.info = toLog;
  console.warn = toLog;
  console.error = toLog;
  process.on('uncaughtException', (err) => {
    log(`fatal: uncaught exception: ${describeError(err)}`);
    process.exit(EXIT.FAILED);
  });
  process.on('unhandledRejection', (err) => log(`error: unhandled rejection: ${describeError(err)}`));
  const tell = (m: DaemonMessage) => {
    if (process.connected) process.send?.(m);
  };
  try {
    const code = await runMaster({
      dir,
      log,
      hooks: await defaultRuntimeHooks(),
      onReady: (info) => {
        tell({ type: 'ready', ...info });
        if (process.connected) process.disconnect();
      },
    });
    file.close();
    return code;
  } catch (err) {
    const message = describeError(err);
    log(`start-up failed: ${message}`);
    tell({ type: 'error', message });
    file.close();
    return EXIT.FAILED;
  }
}
