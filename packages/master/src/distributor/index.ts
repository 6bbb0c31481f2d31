export * from './choose.js';
export * from './collapse.js';
export * from './distributor.js';
export * from './slots.js';
