// Actions on a worker: pause, unpause, and graceful shutdown (`stop` in Buildbot's words,
// `shutdown` in the `lathe worker` command's).

import type { WorkerAction } from '../../control/protocol.js';
import { applyWorkerAction } from '../../control/worker-actions.js';
import { type ActionDecl, by, conflictOnRefusal } from './action.js';

const RESULT = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    changed: { type: 'boolean' },
    state: { type: 'string' },
    runningBuilds: { type: 'integer' },
  },
  required: ['name', 'changed', 'state', 'runningBuilds'],
};

function workerAction(method: string, action: WorkerAction, description: string): ActionDecl {
  return {
    resource: 'workers',
    method,
    permission: 'workers',
    description,
    paths: ['/workers/:workerid', '/workers/:name'],
    params: {},
    result: RESULT,
    async run(worker, _params, ctx, user) {
      const done = await conflictOnRefusal(() => applyWorkerAction(ctx.master, worker.name, action));
      if (done.changed) ctx.log(`data API: ${by(user)} asked worker ${done.name} to ${action}`);
      return done;
    },
  };
}

export const workerActions: readonly ActionDecl[] = [
  workerAction('pause', 'pause', 'gives the worker no new builds; running builds go on'),
  workerAction('unpause', 'unpause', 'gives the worker builds again'),
  workerAction('stop', 'shutdown', 'shuts the worker down once its running builds end (Buildbot’s name)'),
  workerAction('shutdown', 'shutdown', 'the same as stop'),
];
