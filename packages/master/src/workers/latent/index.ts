export * from './command.js';
export * from './docker.js';
export * from './docker-api.js';
export * from './latent-worker.js';
export * from './service.js';
