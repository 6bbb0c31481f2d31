// @lathe/master: the build master's core (no network protocol yet).
export * from './builders/builder.js';
export * from './bus/index.js';
export * from './commands.js';
export * from './config/index.js';
export * from './data/index.js';
export * from './db/connection.js';
export * from './db/errors.js';
export type { Database } from './db/schema.js';
export * from './distributor/index.js';
export * from './locks/index.js';
export * from './logparsers/index.js';
export * from './logs/index.js';
export * from './master.js';
export * from './metrics/index.js';
export * from './properties/index.js';
export * from './results.js';
export * from './service.js';
export * from './workers/worker.js';
