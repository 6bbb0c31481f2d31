// The one place where `lathe start` gets the parts of a master that live outside the core:
// the PB worker port and the build runner, which `workerHooks()` in `src/runtime.ts`
// provides. That module is developed on a parallel branch; until both are merged it may be
// absent, and then a started master accepts and queues build requests but runs none
// (`lathe status` and `lathe force` say so).
//
// TODO(after the merge): replace the dynamic import with
//   import { workerHooks } from '../../runtime.js';
import type { MasterRuntimeHooks } from './run-master.js';

interface RuntimeModule {
  workerHooks(): MasterRuntimeHooks;
}

// A variable specifier keeps tsc from requiring the module at compile time.
const RUNTIME_MODULE = '../../runtime.js';

export async function defaultRuntimeHooks(): Promise<MasterRuntimeHooks> {
  let mod: RuntimeModule;
  try {
    mod = (await import(RUNTIME_MODULE)) as RuntimeModule;
  } catch (err) {
    // Only "not there yet" means "no runner"; any other failure must surface.
    const e = err as NodeJS.ErrnoException;
    if (
      e.code === 'ERR_MODULE_NOT_FOUND' &&
      e.message.includes(new URL(RUNTIME_MODULE, import.meta.url).pathname)
    )
      return {};
    throw err;
  }
  return mod.workerHooks();
}
