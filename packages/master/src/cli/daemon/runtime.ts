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
    async services(master, log) {
      // Roles (config `cluster.roles`): a web-only master opens no worker port and runs no builds.
      const services = master.hasRole('builds') ? [workers.service(log)] : [];
      if (master.config.www && master.hasRole('web')) {
        // Loaded only when served: Fastify would slow every other `lathe` command.
        const { ApiServer } = await import('../../http/server.js');
        services.push(new ApiServer({ log, stopBuild: workers.stopBuild }));
      }
      return services;
    },
  };
}
