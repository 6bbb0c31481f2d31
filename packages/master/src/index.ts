// @lathe/master: the build master — core, PB worker port, build runner and steps. The data
// API's HTTP server is `@lathe/master/http`, apart, so that loading a config (which imports
// this module) does not load Fastify.

export * from './api/index.js';
export * from './builders/builder.js';
export * from './bus/index.js';
export * from './changes/index.js';
export * from './commands.js';
export * from './config/index.js';
// Both name a build report: `lathe force`'s summary keeps the name, the reporters' one is aliased.
export type { BuildReport } from './control/index.js';
export * from './control/index.js';
export * from './data/index.js';
export * from './db/connection.js';
export * from './db/errors.js';
export type { Database } from './db/schema.js';
export * from './distributor/index.js';
export * from './eta/index.js';
export * from './locks/index.js';
export * from './logparsers/index.js';
export * from './logs/index.js';
export * from './master.js';
export * from './metrics/index.js';
export * from './process/build.js';
export * from './process/command.js';
export * from './process/control.js';
export * from './process/requester.js';
export * from './process/runner.js';
export * from './process/step-context.js';
export * from './properties/index.js';
export * from './reporters/index.js';
export type { BuildReport as BuildStatusReport } from './reporters/report.js';
export * from './results.js';
export * from './runtime.js';
export * from './schedulers/index.js';
export * from './service.js';
export * from './steps/index.js';
export * from './urls.js';
export * from './workers/channel.js';
export * from './workers/latent/index.js';
export * from './workers/pb/connection.js';
export * from './workers/pb/server.js';
export * from './workers/pb/throttle.js';
export * from './workers/worker.js';
