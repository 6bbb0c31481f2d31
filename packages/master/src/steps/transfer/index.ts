export * from './remote-files.js';
export * from './steps.js';
