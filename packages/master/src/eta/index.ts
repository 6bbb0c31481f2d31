export * from './estimator.js';
export * from './history.js';
export * from './load.js';
