// @lathe/master: the build master — core, PB worker port, build runner and steps.

export * from './build/build.js';
export * from './build/command.js';
export * from './build/control.js';
export * from './build/runner.js';
export * from './build/step-context.js';
export * from './builders/builder.js';
export * from './bus/index.js';
export * from './commands.js';
export * from './config/index.js';
export * from './control/index.js';
export * from './data/index.js';
export * from './db/connection.js';
export * from './db/errors.js';
export type { Database } from './db/schema.js';
export * from './distributor/index.js';
export * from './logs/index.js';
export * from './master.js';
export * from './results.js';
export * from './runtime.js';
export * from './service.js';
export * from './steps/index.js';
export * from './workers/channel.js';
export * from './workers/pb/connection.js';
export * from './workers/pb/server.js';
export * from './workers/pb/throttle.js';
export * from './workers/worker.js';
