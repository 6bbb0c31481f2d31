// The master with its network faces: the PB worker port and the build runner, added to
// MasterOptions as extensions. This is what `lathe start` runs:
//   const rt = withWorkers({ basedir });
//   const master = await Master.start(rt.options);
//   …; forceBuild(master, { builder: 'x' }); rt.runner.stopBuild(buildid);
import { BuildRunner } from './build/runner.js';
import type { MasterOptions } from './master.js';
import { WorkerServer, type WorkerServerOptions } from './workers/pb/server.js';

export interface WorkerRuntime {
  /** Pass these to `Master.start`. */
  readonly options: MasterOptions;
  readonly server: WorkerServer;
  readonly runner: BuildRunner;
}

export function withWorkers(options: MasterOptions, server: WorkerServerOptions = {}): WorkerRuntime {
  const runner = new BuildRunner();
  const workerServer = new WorkerServer(server);
  // Stopped in reverse: the port closes first (running builds lose their workers and end
  // RETRY), then the runner waits for them to be recorded.
  return {
    options: {
      ...options,
      buildStarter: runner,
      extensions: [...(options.extensions ?? []), runner, workerServer],
    },
    server: workerServer,
    runner,
  };
}
