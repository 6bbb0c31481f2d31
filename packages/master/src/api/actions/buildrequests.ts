// Cancelling a build request: a waiting one completes CANCELLED; one being built has its
// build stopped, as Buildbot's cancel does.
import { cancelRequest } from '../../control/build-actions.js';
import { type ActionDecl, by, conflictOnRefusal } from './action.js';

export const cancelRequestAction: ActionDecl = {
  resource: 'buildrequests',
  method: 'cancel',
  permission: 'stop',
  description: 'cancels a waiting request, or stops the build that runs it',
  paths: ['/buildrequests/:buildrequestid'],
  params: { reason: { type: 'string', description: 'why' } },
  result: {
    type: 'object',
    properties: {
      buildrequestid: { type: 'integer' },
      builder: { type: 'string' },
      outcome: { enum: ['cancelled', 'stopping build'] },
      number: { type: ['integer', 'null'] },
    },
    required: ['buildrequestid', 'builder', 'outcome', 'number'],
  },
  async run(request, params, ctx, user) {
    const reason = params.string('reason')?.trim() || `cancelled by ${by(user)}`;
    const id = request.buildrequestid as number;
    const done = await conflictOnRefusal(() => cancelRequest(ctx.master, ctx.stopBuild, id, reason));
    ctx.log(`data API: ${by(user)} cancelled build request ${id} (${done.outcome}): ${reason}`);
    return done;
  },
};
