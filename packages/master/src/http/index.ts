// The data API over HTTP: Fastify app, realtime, OpenAPI, the master extension.
export { API_PREFIX, type ApiAppOptions, buildApiApp } from './app.js';
export { openApiDocument } from './openapi.js';
export { ApiServer, type ApiServerOptions } from './server.js';
