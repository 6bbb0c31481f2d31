// The one place where `lathe start` gets the parts of a master that live outside this
// core: the worker port (PB worker protocol) and the build runner. Both are developed
// separately; until they are wired in here, a started master accepts and queues build
// requests but runs none — `lathe status` and `lathe force` say so.
import type { MasterRuntimeHooks } from './run-master.js';

export function defaultRuntimeHooks(): MasterRuntimeHooks {
  return {};
}
