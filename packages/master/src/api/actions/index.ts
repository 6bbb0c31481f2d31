// Every action the data API accepts, by resource type.
import type { ActionDecl } from './action.js';
import { forceAction } from './builders.js';
import { cancelRequestAction } from './buildrequests.js';
import { rebuildAction, stopBuildAction } from './builds.js';
import { muteTestAction, unmuteTestAction } from './tests.js';
import { workerActions } from './workers.js';

export const ACTIONS: readonly ActionDecl[] = [
  forceAction,
  stopBuildAction,
  rebuildAction,
  cancelRequestAction,
  ...workerActions,
  muteTestAction,
  unmuteTestAction,
];

/** The actions that may be POSTed to a declared path pattern. */
export function actionsAt(pattern: string): ActionDecl[] {
  return ACTIONS.filter((a) => a.paths.includes(pattern));
}

export * from './action.js';
