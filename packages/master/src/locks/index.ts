export * from './definitions.js';
export * from './errors.js';
export * from './manager.js';
export * from './with-locks.js';
