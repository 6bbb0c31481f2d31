export * from './collector.js';
export * from './names.js';
