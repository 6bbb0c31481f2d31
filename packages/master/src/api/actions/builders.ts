// Forcing a build of a builder, through a force scheduler (schedulers/force.ts) as
// `lathe force` does: the scheduler validates the parameters and makes them properties.
import { ForceRequestError, findForceScheduler } from '../../schedulers/force.js';
import { ForceParameterError } from '../../schedulers/force-parameters.js';
import { type ActionDecl, ActionError, by } from './action.js';

export const forceAction: ActionDecl = {
  resource: 'builders',
  method: 'force',
  permission: 'force',
  description: 'queues a build of this builder',
  paths: ['/builders/:builderid', '/builders/:name'],
  params: {
    reason: { type: 'string', description: 'the buildset’s reason' },
    repository: { type: 'string', description: 'the source stamp’s repository' },
    branch: { type: 'string', description: 'the source stamp’s branch' },
    revision: { type: 'string', description: 'the source stamp’s revision' },
    scheduler: { type: 'string', description: 'the force scheduler; default the first that may force it' },
    properties: {
      type: 'object',
      description: 'values of the force scheduler’s parameters (the implicit one takes any property)',
    },
  },
  result: {
    type: 'object',
    properties: { buildsetid: { type: 'integer' }, buildrequestid: { type: 'integer' } },
    required: ['buildsetid', 'buildrequestid'],
  },
  async run(builder, params, ctx, user) {
    const name = builder.name as string;
    if (!ctx.master.builders.get(name))
      // The database still knows builders this master no longer has configured.
      throw new ActionError(409, `builder ${name} is not configured on this master`);
    const scheduler = params.string('scheduler');
    try {
      const added = await findForceScheduler(ctx.master.schedulers.values(), {
        builder: name,
        ...(scheduler === undefined ? {} : { scheduler }),
      }).force({
        builderNames: [name],
        owner: by(user),
        reason: params.string('reason')?.trim() || `forced by ${by(user)}`,
        params: params.object('properties') ?? {},
        sources: [
          {
            repository: params.string('repository') ?? '',
            branch: params.string('branch') ?? null,
            revision: params.string('revision') ?? null,
          },
        ],
      });
      const result = { buildsetid: added.buildsetid, buildrequestid: added.requests[0]!.buildrequestid };
      ctx.log(`data API: ${by(user)} forced a build of ${name} (buildset ${result.buildsetid})`);
      return result;
    } catch (err) {
      if (err instanceof ForceParameterError)
        // Each problem by parameter path (`jobs`, `deploy.host`), for a form to show beside its field.
        throw new ActionError(400, err.message, { problems: err.problems });
      if (err instanceof ForceRequestError) throw new ActionError(400, err.message);
      throw err;
    }
  },
};
