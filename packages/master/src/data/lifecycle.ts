// Ending a build the way Buildbot does, in one place so the build runner cannot get the
// order wrong: record the build's result, then settle its requests — a RETRY build gives
// its requests back to be run again, any other result completes them.
import { setTimeout as sleep } from 'node:timers/promises';
import { isDiskFull } from '../db/errors.js';
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

/**
 * finishBuild, waiting for space while the database's disk is full: until the build's end is
 * recorded it shows as building and its requests stay claimed by this master, so giving up
 * would wedge them. The first failure is reported (it names the disk and the database);
 * other errors are thrown as they are.
 */
export async function finishBuildWhenWritable(
  data: DataLayer,
  spec: FinishBuildSpec,
  onError: (err: unknown, context: string) => void,
  retryMs = 1000,
): Promise<'completed' | 'requeued'> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await finishBuild(data, spec);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      if (attempt === 1)
        onError(
          err,
          `recording the end of build ${spec.buildid}: retrying every ${retryMs / 1000} s until space is freed`,
        );
      await sleep(retryMs);
    }
  }
}
