export * from './define.js';
export * from './diff.js';
export * from './errors.js';
export * from './loader.js';
export * from './types.js';
export { parsePort, validateConfig } from './validate.js';
export * from './www.js';
