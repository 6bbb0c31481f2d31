// Ending a build the way Buildbot does, in one place so the build runner cannot get the
// order wrong: record the build's result, then settle its requests — a RETRY build gives
// its requests back to be run again, any other result completes them.
import { RETRY, type Result } from '../results.js';
import type { DataLayer } from './index.js';

export interface FinishBuildSpec {
  readonly buildid: number;
  readonly results: Result;
  readonly masterid: number;
  /** The requests this build ran (usually one; collapsed ones are already complete). */
  readonly buildrequestids: readonly number[];
  readonly stateString?: string;
}

export async function finishBuild(data: DataLayer, spec: FinishBuildSpec): Promise<'completed' | 'requeued'> {
  await data.builds.finish(spec.buildid, spec.results, spec.stateString);
  if (spec.results === RETRY) {
    await data.buildrequests.unclaim(spec.buildrequestids, spec.masterid);
    return 'requeued';
  }
  await data.buildrequests.complete(spec.buildrequestids, spec.results, spec.masterid);
  return 'completed';
}
