// Forcing a build of a builder. A thin call into the master's force path (process/control.ts)
// until forcing goes through a ForceScheduler, which will own the params it accepts.
import { forceBuild, UnknownBuilderError } from '../../process/control.js';
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
    properties: { type: 'object', description: 'build properties' },
  },
  result: {
    type: 'object',
    properties: { buildsetid: { type: 'integer' }, buildrequestid: { type: 'integer' } },
    required: ['buildsetid', 'buildrequestid'],
  },
  async run(builder, params, ctx, user) {
    const name = builder.name as string;
    const spec = {
      builder: name,
      reason: params.string('reason')?.trim() || `forced by ${by(user)}`,
      repository: params.string('repository') ?? '',
      branch: params.string('branch') ?? null,
      revision: params.string('revision') ?? null,
      properties: { ...params.object('properties'), owner: by(user) },
    };
    const result = await forceBuild(ctx.master, spec).catch((err: unknown) => {
      // The database still knows builders this master no longer has configured.
      if (err instanceof UnknownBuilderError)
        throw new ActionError(409, `builder ${name} is not configured on this master`);
      throw err;
    });
    ctx.log(`data API: ${by(user)} forced a build of ${name} (buildset ${result.buildsetid})`);
    return result;
  },
};
