// The parts of a master that `lathe start` adds to the core: the PB worker port and the
// build runner, from `workerHooks()` in `src/runtime.ts`.
import { workerHooks } from '../../runtime.js';
import type { MasterRuntimeHooks } from './run-master.js';

export async function defaultRuntimeHooks(): Promise<MasterRuntimeHooks> {
  return workerHooks();
}
