// The master with its network faces: the PB worker port and the build runner, both
// Services in the master's one tree. Two ways in:
//
//   Given to Master.start (started with the master's other services):
//     const rt = withWorkers({ basedir });
//     const master = await Master.start(rt.options);
//
//   Added once the master runs (the shape `lathe start` uses, which opens its control port
//   in between):
//     const hooks = workerHooks();
//     const master = await Master.start({ basedir, buildStarter: hooks.buildStarter });
//     await master.addService(hooks.service(log));  …  await master.stop();
//
// Either way `runner.stopBuild(buildid)` stops a build, `forceBuild`/`waitForRequest`
// (process/control.ts) start and follow one, and workers connect to the configured workerPort.

import type { BuildStarter } from './distributor/slots.js';
import type { EtaEstimate } from './eta/estimator.js';
import { asListenError } from './listen-error.js';
import type { Master, MasterOptions } from './master.js';
import { BuildRunner, type BuildRunnerOptions } from './process/runner.js';
import type { Service } from './service.js';
import { WorkerServer, type WorkerServerOptions } from './workers/pb/server.js';

export interface WorkerRuntime {
  /** Pass these to `Master.start`. */
  readonly options: MasterOptions;
  readonly server: WorkerServer;
  readonly runner: BuildRunner;
}

export function withWorkers(
  options: MasterOptions,
  server: WorkerServerOptions = {},
  runnerOptions: BuildRunnerOptions = {},
): WorkerRuntime {
  const runner = new BuildRunner(runnerOptions);
  const workerServer = new WorkerServer(server);
  // Stopped in reverse: the port closes first (running builds lose their workers and end
  // RETRY), then the runner waits for them to be recorded.
  return {
    options: {
      ...options,
      buildStarter: runner,
      services: [...(options.services ?? []), runner, workerServer],
    },
    server: workerServer,
    runner,
  };
}

export interface WorkerHooks {
  readonly buildStarter: BuildStarter;
  readonly runner: BuildRunner;
  readonly server: WorkerServer;
  /** The worker port and the build runner as one service: stopping it closes the port and waits for builds. */
  service(log: (line: string) => void): Service;
  /** Stops every running build with CANCELLED. */
  cancelBuilds(master: Master, reason: string): Promise<void>;
  /** A running build's estimated finish; null when it is not running here. */
  eta(buildid: number): EtaEstimate | null;
  /** Stops one running build with CANCELLED; false when it does not run here. */
  stopBuild(buildid: number, reason: string): boolean;
}

export function workerHooks(
  server: WorkerServerOptions = {},
  runnerOptions: BuildRunnerOptions = {},
): WorkerHooks {
  const runner = new BuildRunner(runnerOptions);
  let workerServer: WorkerServer | null = null;
  return {
    buildStarter: runner,
    runner,
    get server(): WorkerServer {
      if (!workerServer) throw new Error('worker port: not attached yet');
      return workerServer;
    },
    service(log) {
      const ws = new WorkerServer({
        logger: { info: log, warn: (m) => log(`warning: ${m}`) },
        ...server,
      });
      workerServer = ws;
      return {
        name: 'worker port',
        async start(master: Master) {
          await runner.start(master);
          const { host, port } = master.config.workerPort;
          try {
            await ws.start(master);
          } catch (err) {
            await runner.stop();
            throw asListenError(err, 'workerPort', server.host ?? host ?? '0.0.0.0', server.port ?? port);
          }
          log(`worker port listening on ${host ?? '0.0.0.0'}:${ws.port}`);
        },
        async stop() {
          await ws.stop();
          await runner.stop();
        },
      };
    },
    async cancelBuilds(_master, reason) {
      await runner.stopAll(reason);
    },
    eta: (buildid) => runner.get(buildid)?.eta ?? null,
    stopBuild: (buildid, reason) => runner.stopBuild(buildid, reason),
  };
}
