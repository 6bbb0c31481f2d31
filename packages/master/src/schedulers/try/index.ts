export * from './config.js';
export * from './job.js';
export * from './job-file.js';
export * from './jobdir.js';
export * from './remote-status.js';
export * from './userpass.js';
