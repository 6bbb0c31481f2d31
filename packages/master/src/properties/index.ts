export * from './errors.js';
export * from './interpolate.js';
export * from './properties.js';
export * from './redacting-log.js';
export * from './redactor.js';
export * from './renderable.js';
export * from './secrets.js';
