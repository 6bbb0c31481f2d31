// Quarantine: mute a test (its failures no longer fail a build; it still runs and its
// results are still recorded) with a reason, or unmute it. Who, when and why are kept.
import { MuteReasonError } from '../../data/test-history.js';
import { type ActionDecl, ActionError, by } from './action.js';

const PATHS = ['/tests/:testid'];
const RESULT = {
  type: 'object',
  properties: { testid: { type: 'integer' }, muted: { type: 'boolean' } },
  required: ['testid', 'muted'],
};

export const muteTestAction: ActionDecl = {
  resource: 'tests',
  method: 'mute',
  permission: 'quarantine',
  description: 'quarantines the test: it still runs, but its failures do not fail a build',
  paths: PATHS,
  params: { reason: { type: 'string', description: 'why (required, at most 1000 characters)' } },
  result: RESULT,
  async run(test, params, ctx, user) {
    const testid = test.testid as number;
    const reason = params.string('reason') ?? '';
    try {
      await ctx.master.data.testHistory.mute(testid, by(user), reason);
    } catch (err) {
      if (err instanceof MuteReasonError) throw new ActionError(400, err.message);
      throw err;
    }
    ctx.log(`data API: ${by(user)} muted test ${test.name} of builder ${test.builderid}: ${reason.trim()}`);
    return { testid, muted: true };
  },
};

export const unmuteTestAction: ActionDecl = {
  resource: 'tests',
  method: 'unmute',
  permission: 'quarantine',
  description: 'ends the test’s quarantine: its failures fail a build again',
  paths: PATHS,
  params: {},
  result: RESULT,
  async run(test, _params, ctx, user) {
    const testid = test.testid as number;
    await ctx.master.data.testHistory.unmute(testid);
    ctx.log(`data API: ${by(user)} unmuted test ${test.name} of builder ${test.builderid}`);
    return { testid, muted: false };
  },
};
