// Forcing a build through a force scheduler, stopping one running build and cancelling one
// build request, as `lathe force`, `lathe stop-build` and `lathe cancel-request` ask over the
// control channel (Buildbot's force action on a force scheduler, `stop` on a build and
// `cancel` on a build request). Errors are PBErrors: their message is what the user reads.
import { PBError } from '@lathe/pb';
import { AlreadyClaimedError } from '../data/errors.js';
import type { Master } from '../master.js';
import { CANCELLED, isResult, resultName } from '../results.js';
import { type ForcedSource, ForceRequestError, findForceScheduler } from '../schedulers/force.js';
import { ForceParameterError } from '../schedulers/force-parameters.js';
import type { CancelRequestResult, StopBuildResult } from './protocol.js';

/** Stops a build running on this master (the build runner); false if it does not run here. */
export type StopRunningBuild = (buildid: number, reason: string) => boolean;

/** A build given as its builder and number, or as its build id. */
export type BuildSelector =
  | { readonly builder: string; readonly number: number }
  | { readonly buildid: number };

const CLAIM_RACE_ROUNDS = 20;
const CLAIM_RACE_PAUSE_MS = 50;

function builderNamed(master: Master, name: string) {
  const builder = master.builders.get(name);
  if (builder) return builder;
  const known = [...master.builders.values()].map((b) => b.name).join(', ') || 'none';
  throw new PBError(`no builder named ${JSON.stringify(name)} (builders: ${known})`);
}

function builderName(master: Master, builderid: number): string {
  return [...master.builders.values()].find((b) => b.builderid === builderid)?.name ?? `builder ${builderid}`;
}

const resultText = (r: number | null) => (r !== null && isResult(r) ? resultName(r) : String(r));

export interface ForceOne {
  readonly builder: string;
  /** The force scheduler to go through; default the first that may force the builder. */
  readonly scheduler?: string;
  readonly owner: string;
  readonly reason: string;
  /** Parameter values (text from the command line). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly source: ForcedSource;
}

/** Forces one builder through a force scheduler; a refusal is a PBError naming why. */
export async function forceOne(
  master: Master,
  force: ForceOne,
): Promise<{ buildsetid: number; buildrequestid: number; builderid: number }> {
  builderNamed(master, force.builder);
  try {
    const scheduler = findForceScheduler(master.schedulers.values(), {
      builder: force.builder,
      ...(force.scheduler === undefined ? {} : { scheduler: force.scheduler }),
    });
    const added = await scheduler.force({
      builderNames: [force.builder],
      owner: force.owner,
      reason: force.reason,
      params: force.params,
      sources: [force.source],
    });
    const request = added.requests[0]!;
    return {
      buildsetid: added.buildsetid,
      buildrequestid: request.buildrequestid,
      builderid: request.builderid,
    };
  } catch (err) {
    if (err instanceof ForceParameterError || err instanceof ForceRequestError)
      throw new PBError(err.message);
    throw err;
  }
}

export async function stopBuild(
  master: Master,
  stop: StopRunningBuild | undefined,
  which: BuildSelector,
  reason: string,
): Promise<StopBuildResult> {
  const build =
    'buildid' in which
      ? await master.data.builds.get(which.buildid)
      : await master.data.builds.getByNumber(builderNamed(master, which.builder).builderid, which.number);
  const what =
    'buildid' in which ? `build id ${which.buildid}` : `build #${which.number} of ${which.builder}`;
  if (!build) throw new PBError(`there is no ${what}`);
  const name = builderName(master, build.builderid);
  if (build.completeAt !== null)
    throw new PBError(
      `build #${build.number} of ${name} has already finished (${resultText(build.results)})`,
    );
  if (!stop) throw new PBError('this master has no build runner attached: it runs no builds to stop');
  if (build.masterid !== master.masterid || !stop(build.id, reason))
    throw new PBError(`build #${build.number} of ${name} is not running on this master`);
  return { buildid: build.id, builder: name, number: build.number };
}

/**
 * Cancels a request that waits (it completes CANCELLED) or, once a build runs it, stops that
 * build, as Buildbot's cancel does. A distributor may claim the request between our looks;
 * a few rounds settle that.
 */
export async function cancelRequest(
  master: Master,
  stop: StopRunningBuild | undefined,
  buildrequestid: number,
  reason: string,
): Promise<CancelRequestResult> {
  const { data, masterid } = master;
  for (let round = 0; round < CLAIM_RACE_ROUNDS; round++) {
    const request = await data.buildrequests.get(buildrequestid);
    if (!request) throw new PBError(`there is no build request ${buildrequestid}`);
    const builder = builderName(master, request.builderid);
    if (request.complete)
      throw new PBError(
        `build request ${buildrequestid} is already complete (${resultText(request.results)})`,
      );
    if (request.claimedByMaster === null) {
      try {
        await data.buildrequests.claim([buildrequestid], masterid);
      } catch (err) {
        if (err instanceof AlreadyClaimedError) continue;
        throw err;
      }
      await data.buildrequests.complete([buildrequestid], CANCELLED, masterid);
      return { buildrequestid, builder, outcome: 'cancelled', number: null };
    }
    if (request.claimedByMaster !== masterid)
      throw new PBError(`build request ${buildrequestid} is being built by another master`);
    const running = (await data.builds.forRequest(buildrequestid)).find((b) => b.completeAt === null);
    if (running && stop?.(running.id, reason))
      return { buildrequestid, builder, outcome: 'stopping build', number: running.number };
    // Claimed, its build not registered yet: look again.
    await new Promise((r) => setTimeout(r, CLAIM_RACE_PAUSE_MS));
  }
  throw new PBError(`build request ${buildrequestid} is changing hands; try again`);
}
