// Reporters: generators decide what to report, reporters deliver it, the framework keeps
// delivery durable (an outbox and a cursor per reporter in the database).
export * from './channels.js';
export * from './config.js';
export * from './delivery.js';
export * from './generators.js';
export * from './mail.js';
export * from './read.js';
export * from './report.js';
export * from './service.js';
