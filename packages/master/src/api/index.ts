// The data API: resource declarations, the query spec, in-process reads, the message queue.
export * from './data-api.js';
export * from './log-content.js';
export * from './log-search.js';
export * from './mq/bridge.js';
export * from './mq/in-process.js';
export * from './mq/queue.js';
export * from './query.js';
export * from './resource.js';
export { RESOURCE_TYPES } from './resources/index.js';
export * from './router.js';
