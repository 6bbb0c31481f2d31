export type { ControlTarget } from './avatar.js';
export { ControlAvatar } from './avatar.js';
export { BuildFollower } from './follow.js';
export * from './protocol.js';
export { describeReconfig, ReconfigTracker } from './reconfig-tracker.js';
export { type ControlServerOptions, startControlServer } from './server.js';
