export * from './estimator.js';
export * from './history.js';
export * from './load.js';
export * from './output-profile.js';
