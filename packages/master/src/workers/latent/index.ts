export * from './command.js';
export * from './latent-worker.js';
export * from './service.js';
export * from './docker.js';
export * from './docker-api.js';
