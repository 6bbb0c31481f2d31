export * from './change-source.js';
export * from './create.js';
export * from './git-poller.js';
export * from './pb-change-dict.js';
export * from './pb-change-source.js';
export * from './pb-users.js';
