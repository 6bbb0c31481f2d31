// The parts of a master that `lathe start` adds to the core: the PB worker port and the
// build runner, from `workerHooks()` in `src/runtime.ts`, and the data API over HTTP
// (`src/http/`, when the config has `www`).
import { workerHooks } from '../../runtime.js';
import type { MasterRuntimeHooks } from './run-master.js';

export async function defaultRuntimeHooks(): Promise<MasterRuntimeHooks> {
  const workers = workerHooks();
  return {
    buildStarter: workers.buildStarter,
    cancelBuilds: workers.cancelBuilds,
    eta: workers.eta,
    stopBuild: workers.stopBuild,
    async attach(master, log) {
      const detachWorkers = await workers.attach(master, log);
      if (!master.config.www) return detachWorkers;
      try {
        // Loaded only when served: Fastify would slow every other `lathe` command.
        const { attachDataApi } = await import('../../http/server.js');
        const detachApi = await attachDataApi(master, log, workers.stopBuild);
        return async () => {
          await detachApi();
          await detachWorkers();
        };
      } catch (err) {
        await detachWorkers();
        throw err;
      }
    },
  };
}
