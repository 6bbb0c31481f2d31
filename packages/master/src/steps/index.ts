export * from './args.js';
export * from './fs.js';
export * from './git.js';
export * from './shell.js';
