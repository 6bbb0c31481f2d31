// Runs a master until it is told to stop: the master itself, its control port, the pid and
// control files, and the signals an operator (or `lathe`) sends.
//
//   SIGHUP   reconfig (the outcome is logged and kept for `lathe reconfig` to fetch)
//   SIGTERM  graceful stop: start no new builds, wait for running ones, then exit
//   SIGINT   stop now: cancel running builds, then exit (also Ctrl-C in --nodaemon)
//
// A second SIGTERM or SIGINT during a stop escalates to cancelling; a third exits at once
// (builds are then recovered as interrupted by the next start, like after a crash).

import { AlreadyRunningError, claimPidFile, releasePidFile } from '@lathe/daemon';
import type { PBServer } from '@lathe/pb';
import { ConfigError } from '../../config/errors.js';
import { ReconfigTracker } from '../../control/reconfig-tracker.js';
import { startControlServer } from '../../control/server.js';
import { epochSeconds } from '../../data/context.js';
import type { EtaEstimate } from '../../eta/estimator.js';
import { ListenError } from '../../listen-error.js';
import { Master, type MasterOptions } from '../../master.js';
import { type Service, serviceFailureCause } from '../../service.js';
import {
  ControlSecretError,
  type MasterDir,
  readSecret,
  removeControlEndpoint,
  writeControlEndpoint,
} from '../masterdir.js';
import { MASTER_DAEMON } from './master-process.js';

/** Extra parts the network layers attach to the master (the worker port, the build runner). */
export interface MasterRuntimeHooks {
  readonly buildStarter?: MasterOptions['buildStarter'];
  /**
   * Parts added to the master once it runs and its control port listens (the worker port,
   * the HTTP server); they are stopped with the master.
   */
  readonly services?: (master: Master, log: (line: string) => void) => Promise<readonly Service[]>;
  /** Asks running builds to stop (result CANCELLED); the build runner provides it. */
  readonly cancelBuilds?: (master: Master, reason: string) => Promise<void>;
  /** A running build's estimated finish, for `lathe status`; the build runner provides it. */
  readonly eta?: (buildid: number) => EtaEstimate | null;
  /** Stops one running build (`lathe stop-build`, `lathe cancel-request`); the build runner provides it. */
  readonly stopBuild?: (buildid: number, reason: string) => boolean;
}

export interface RunMasterOptions {
  readonly dir: MasterDir;
  readonly log: (line: string) => void;
  readonly hooks?: MasterRuntimeHooks;
  /** Called once the master runs and its control port listens. */
  readonly onReady?: (info: { pid: number; controlPort: number }) => void;
}

const BUILD_POLL_MS = 500;

/** Starts the master; the returned promise settles with an exit code once it has stopped. */
export async function runMaster(options: RunMasterOptions): Promise<number> {
  const { dir, log } = options;
  const hooks = options.hooks ?? {};
  claimPidFile(dir.pidFile, MASTER_DAEMON);
  let master: Master;
  let secret: string;
  try {
    secret = readSecret(dir.secretFile);
    master = await Master.start({
      basedir: dir.basedir,
      ...(hooks.buildStarter ? { buildStarter: hooks.buildStarter } : {}),
      onError: (err, context) => log(`error: ${context}: ${describeError(err)}`),
      bus: { onHandlerError: (r) => log(`error: bus consumer ${r.subscription}: ${describeError(r.error)}`) },
    });
  } catch (err) {
    releasePidFile(dir.pidFile);
    throw err;
  }

  let accepting = true;
  const reconfigs = new ReconfigTracker();
  const target = {
    master,
    startedAt: epochSeconds(),
    reconfigs,
    accepting: () => accepting,
    ...(hooks.eta ? { eta: hooks.eta } : {}),
    ...(hooks.stopBuild ? { stopBuild: hooks.stopBuild } : {}),
    log,
  };
  let control: PBServer | null = null;
  try {
    control = await startControlServer(target, {
      secret,
      log,
    });
    // Published before the worker port opens: by the time workers can connect, `lathe`
    // can already see them.
    writeControlEndpoint(dir.controlFile, { host: '127.0.0.1', port: control.port, pid: process.pid });
    for (const service of (await hooks.services?.(master, log)) ?? []) await master.addService(service);
  } catch (err) {
    // E.g. the worker port is taken: do not leave a half-started master behind.
    await control?.close();
    await master.stop().catch(() => {});
    removeControlEndpoint(dir.controlFile, process.pid);
    releasePidFile(dir.pidFile);
    throw err;
  }
  const controlPort = control.port;
  log(
    `master ${master.name} started (pid ${process.pid}); ${master.config.workers.length} workers, ` +
      `${master.config.builders.length} builders; control port 127.0.0.1:${controlPort}`,
  );
  if (!master.hasRole('builds'))
    log(`roles ${master.roles.join(', ')}: this master runs no builds and opens no worker port`);
  else if (!master.distributor) log('note: no build runner is attached: build requests stay pending');
  const { recovered } = master;
  // After a kill -9 the operator's first question is what happened to the running builds.
  if (recovered)
    log(
      `recovered from an unclean stop: ${recovered.interruptedBuilds.length} build(s) marked interrupted (RETRY), ` +
        `${recovered.releasedRequests.length} build request(s) queued again`,
    );

  const onHup = () => {
    log(`reconfig: reloading ${master.configFile}`);
    master.reconfig().then(
      (result) => {
        const outcome = reconfigs.record(result);
        if (outcome.ok) log(`reconfig: done (${outcome.summary})`);
        else {
          log('reconfig: failed, keeping the previous configuration:');
          for (const p of outcome.problems) log(`  ${p}`);
        }
      },
      (err) => log(`reconfig: failed: ${describeError(err)}`),
    );
  };

  let stopping: Promise<number> | null = null;
  let cancelRequested = false;
  const requestCancel = (why: string) => {
    if (cancelRequested) return;
    cancelRequested = true;
    if (!hooks.cancelBuilds) {
      log('stop: cannot cancel builds: no build runner attached');
      return;
    }
    hooks
      .cancelBuilds(master, why)
      .catch((err) => log(`stop: cancelling builds failed: ${describeError(err)}`));
  };

  let finish!: (code: number) => void;
  const done = new Promise<number>((r) => {
    finish = r;
  });

  const shutdown = async (cancel: boolean, signal: string): Promise<number> => {
    accepting = false;
    log(`stop: ${signal} received, ${cancel ? 'cancelling running builds' : 'waiting for running builds'}`);
    // No new builds from here on; running ones finish (or are cancelled) below.
    await master.distributor?.stop();
    if (cancel) requestCancel(`master stopped with ${signal}`);
    let announced = -1;
    for (;;) {
      const running = (await master.data.builds.unfinishedOf(master.masterid)).length;
      if (running === 0) break;
      if (running !== announced) log(`stop: waiting for ${running} running build(s)`);
      announced = running;
      await new Promise((r) => setTimeout(r, BUILD_POLL_MS));
    }
    process.off('SIGHUP', onHup);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    await control?.close();
    await master.stop();
    removeControlEndpoint(dir.controlFile, process.pid);
    releasePidFile(dir.pidFile);
    log('master stopped');
    return 0;
  };

  let signals = 0;
  const begin = (cancel: boolean, signal: string) => {
    signals++;
    if (stopping && signals >= 3) {
      log(`stop: ${signal} received again, exiting without waiting`);
      removeControlEndpoint(dir.controlFile, process.pid);
      releasePidFile(dir.pidFile);
      process.exit(1);
    }
    if (stopping) {
      requestCancel(`master stopped with a second ${signal}`);
      return;
    }
    stopping = shutdown(cancel, signal).catch((err) => {
      log(`stop: failed: ${describeError(err)}`);
      removeControlEndpoint(dir.controlFile, process.pid);
      releasePidFile(dir.pidFile);
      return 1;
    });
    stopping.then(finish);
  };
  const onTerm = () => begin(false, 'SIGTERM');
  const onInt = () => begin(true, 'SIGINT');
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  options.onReady?.({ pid: process.pid, controlPort });
  return done;
}

/** Errors meant for the user read best as their message; anything else needs its stack. */
export function describeError(err: unknown): string {
  err = serviceFailureCause(err);
  if (
    err instanceof ConfigError ||
    err instanceof AlreadyRunningError ||
    err instanceof ControlSecretError ||
    err instanceof ListenError
  )
    return err.message;
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}
