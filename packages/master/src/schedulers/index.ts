export * from './change-filter.js';
export * from './change-scheduler.js';
export * from './config.js';
export * from './create.js';
export * from './errors.js';
export * from './scheduler.js';
export * from './try/index.js';
