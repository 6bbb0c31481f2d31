export * from './bus.js';
export * from './events.js';
export { compilePattern, matches } from './pattern.js';
