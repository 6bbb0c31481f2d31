export * from './command.js';
export * from './latent-worker.js';
export * from './service.js';
