// Webhooks that turn pushes and pull/merge requests into changes (see plugin.ts).
export * from './config.js';
export * from './errors.js';
export { CHANGE_HOOK_PREFIX, type ChangeHooksOptions, changeHooksPlugin } from './plugin.js';
export type { HookProvider, HookRequest, HookSettings } from './provider.js';
export { verifyHmacSha256, verifyToken } from './signature.js';
