/**
 * The worker process itself (`start --nodaemon`, or the daemon started by
 * `start`): reads the configuration, claims the pid file, opens the log, runs
 * the connection service and handles signals until it stops.
 *
 * Signals: SIGTERM/SIGINT stop at once (running builds are killed); SIGHUP asks
 * the master for a graceful shutdown when `allowShutdown` is 'signal'. With
 * 'file', touching `shutdown.stamp` does the same.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { claimPidFile, RotatingLog, releasePidFile } from '@lathe/daemon';
import type { RemoteObjects } from '../commands/command.js';
import { LOG_FILE, PID_FILE, parseUmask, readConfig, SHUTDOWN_STAMP } from '../config.js';
import type { ConnectTarget, MasterConnector } from '../connection/master-connector.js';
import { pbConnector, pbRemoteObjects } from '../connection/pb-connector.js';
import { killAllProcessTrees } from '../process/run-process.js';
import { logMessage, setLogSink } from '../util/log.js';
import { WORKER_VERSION } from '../version.js';
import { Bot } from '../worker/bot.js';
import { defaultBackoff, type ServiceEvent, WorkerService } from '../worker/worker-service.js';
import { WORKER_DAEMON } from './worker-process.js';

export interface RunWorkerOptions {
  /** Absolute worker base directory. */
  basedir: string;
  /** Log to stdout instead of worker.log (foreground runs). */
  logToStdout: boolean;
  /** Progress for whoever started us (the `start` command waiting on the daemon). */
  onEvent?: (event: ServiceEvent) => void;
  connector?: MasterConnector;
  remotes?: RemoteObjects;
}

const SHUTDOWN_STAMP_POLL_MS = 10_000;

/** Runs the worker until it stops; returns the exit code. Throws ConfigError before starting. */
export async function runWorker(options: RunWorkerOptions): Promise<number> {
  const { basedir } = options;
  const config = readConfig(basedir);
  if (config.umask !== null) process.umask(parseUmask(config.umask)!);

  const log = options.logToStdout
    ? undefined
    : new RotatingLog(join(basedir, LOG_FILE), config.logRotateLength, config.maxRotatedFiles);
  setLogSink(log ? (line) => log.write(line) : (line) => process.stdout.write(`${line}\n`));
  const pidFile = join(basedir, PID_FILE);
  claimPidFile(pidFile, WORKER_DAEMON);
  logMessage(
    `lathe-worker ${WORKER_VERSION} starting in ${basedir} (pid ${process.pid}, Node.js ${process.version})`,
  );

  let service: WorkerService | undefined;
  const bot = new Bot({
    basedir,
    remotes: options.remotes ?? pbRemoteObjects,
    numcpus: config.numcpus,
    deleteLeftoverDirs: config.deleteLeftoverDirs,
    settings: { killLeftovers: config.killLeftoverProcesses },
    onShutdownRequested: () => void service?.shutdownWhenIdle(),
  });
  const target: ConnectTarget = {
    host: config.masterHost,
    port: config.masterPort,
    name: config.name,
    password: config.password,
    useTls: config.useTls,
    tlsCaFile: config.tlsCaFile,
  };
  service = new WorkerService({
    target,
    bot,
    connector: options.connector ?? pbConnector,
    keepaliveSeconds: config.keepalive,
    maxRetries: config.maxRetries,
    backoff: defaultBackoff(config.maxRetryDelay),
    onEvent: options.onEvent,
  });
  const running = service;

  const onStop = (signal: NodeJS.Signals) => running.stop(`received ${signal}`);
  const onHangup = () => {
    if (config.allowShutdown === 'signal') void running.requestGracefulShutdown();
    else logMessage("received SIGHUP; ignored (set allowShutdown to 'signal' to make it request a shutdown)");
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHangup);
  const stampTimer = config.allowShutdown === 'file' ? watchShutdownStamp(basedir, running) : undefined;
  const onCrash = (err: unknown) => {
    logMessage(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    running.stop('internal error', 1);
  };
  process.on('uncaughtException', onCrash);

  try {
    return await running.run();
  } finally {
    clearInterval(stampTimer);
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    process.off('SIGHUP', onHangup);
    process.off('uncaughtException', onCrash);
    bot.stopAllCommands();
    killAllProcessTrees();
    releasePidFile(pidFile);
    logMessage('lathe-worker stopped');
    log?.close();
  }
}

function watchShutdownStamp(basedir: string, service: WorkerService): NodeJS.Timeout {
  const stamp = join(basedir, SHUTDOWN_STAMP);
  const mtime = () => (existsSync(stamp) ? statSync(stamp).mtimeMs : 0);
  let last = mtime();
  return setInterval(() => {
    const now = mtime();
    if (now > last) void service.requestGracefulShutdown();
    last = now;
  }, SHUTDOWN_STAMP_POLL_MS);
}
