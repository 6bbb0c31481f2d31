export * from './banana.js';
export * from './values.js';
export * from './vocab.js';
