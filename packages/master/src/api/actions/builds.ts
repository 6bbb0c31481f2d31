// Actions on a build: stop it (CANCELLED), or rebuild it (a new request for the same builder,
// source stamps and properties, as Buildbot's rebuild).
import { stopBuild } from '../../control/build-actions.js';
import { type ActionDecl, ActionError, by, conflictOnRefusal } from './action.js';

const PATHS = ['/builds/:buildid', '/builders/:builderid/builds/:number'];

export const stopBuildAction: ActionDecl = {
  resource: 'builds',
  method: 'stop',
  permission: 'stop',
  description: 'stops the build if it runs on this master; it finishes CANCELLED',
  paths: PATHS,
  params: { reason: { type: 'string', description: 'why, shown in the build’s state' } },
  result: {
    type: 'object',
    properties: { buildid: { type: 'integer' }, builder: { type: 'string' }, number: { type: 'integer' } },
    required: ['buildid', 'builder', 'number'],
  },
  async run(build, params, ctx, user) {
    const reason = params.string('reason')?.trim() || `stopped by ${by(user)}`;
    const stopped = await conflictOnRefusal(() =>
      stopBuild(ctx.master, ctx.stopBuild, { buildid: build.buildid as number }, reason),
    );
    ctx.log(`data API: ${by(user)} stopped build #${stopped.number} of ${stopped.builder}: ${reason}`);
    return stopped;
  },
};

export const rebuildAction: ActionDecl = {
  resource: 'builds',
  method: 'rebuild',
  permission: 'rebuild',
  description: 'queues a new build of the same builder, source stamps and properties',
  paths: PATHS,
  params: { reason: { type: 'string', description: 'the new buildset’s reason' } },
  result: {
    type: 'object',
    properties: { buildsetid: { type: 'integer' }, buildrequestid: { type: 'integer' } },
    required: ['buildsetid', 'buildrequestid'],
  },
  async run(build, params, ctx, user) {
    const { data } = ctx.master;
    const request = await data.buildrequests.get(build.buildrequestid as number);
    const buildset = request && (await data.buildsets.get(request.buildsetid));
    if (!request || !buildset)
      throw new ActionError(409, `build ${build.buildid} has no build request to repeat`);
    const properties = Object.fromEntries(
      Object.entries(await data.buildsets.properties(buildset.id)).map(([k, [v]]) => [k, v]),
    );
    const reason = params.string('reason')?.trim() || `rebuild of build #${build.number} by ${by(user)}`;
    const added = await data.buildsets.add({
      sourcestampids: buildset.sourcestampids,
      builderids: [request.builderid],
      reason,
      properties,
      propertiesSource: 'Rebuild',
      priority: request.priority,
    });
    ctx.log(`data API: ${by(user)} rebuilt build ${build.buildid} as buildset ${added.buildsetid}`);
    return { buildsetid: added.buildsetid, buildrequestid: added.buildrequestids.get(request.builderid)! };
  },
};
