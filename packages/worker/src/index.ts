// @lathe/worker: the worker side of the Buildbot worker protocol.
//
// The PB integration plugs in at three places (see README.md in this package):
//   - connection/pb-connector.ts: `loginOverPb` and `pbRemoteObjects`
//   - worker/bot.ts: Bot, whose methods become the mind's remote_* methods
//   - worker/builder.ts: WorkerForBuilder, one Referenceable per builder
export * from './commands/command.js';
export { COMMAND_VERSION, commandVersions, createCommand } from './commands/registry.js';
export * from './config.js';
export * from './connection/master-connector.js';
export { loginOverPb, openTransport, pbConnector, pbRemoteObjects } from './connection/pb-connector.js';
export * from './connection/remote-adapters.js';
export { runWorker } from './daemon/run-worker.js';
export * from './protocol/failure.js';
export * from './protocol/values.js';
export { UpdateBatcher } from './updates/batcher.js';
export { WORKER_VERSION } from './version.js';
export { Bot, type BotOptions } from './worker/bot.js';
export { WorkerForBuilder } from './worker/builder.js';
export {
  CommandUpdates,
  type MasterCommandRef,
  RunningCommand,
  toWireUpdates,
} from './worker/running-command.js';
export * from './worker/worker-service.js';
