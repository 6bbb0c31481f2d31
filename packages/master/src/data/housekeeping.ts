// Cleaning up after a master that stopped without finishing its work — this master's own
// previous run after `kill -9`, or another master whose heartbeat expired. Its running
// builds are finished as RETRY (with their open steps and logs), and its claimed requests
// are released so that some master runs them again. Nothing recorded is deleted.
import { RETRY } from '../results.js';
import type { DataLayer } from './index.js';

export const INTERRUPTED_STATE = 'interrupted by master restart';

export interface HousekeepingReport {
  readonly masterid: number;
  readonly interruptedBuilds: readonly number[];
  readonly interruptedSteps: readonly number[];
  readonly releasedRequests: readonly number[];
}

export async function cleanUpAfterMaster(
  data: DataLayer,
  masterid: number,
  state = INTERRUPTED_STATE,
): Promise<HousekeepingReport> {
  const interruptedSteps: number[] = [];
  const builds = await data.builds.unfinishedOf(masterid);
  for (const build of builds) {
    for (const step of await data.steps.forBuild(build.id)) {
      if (step.completeAt !== null) continue;
      for (const log of await data.logs.forStep(step.id)) {
        if (!log.complete) await data.logs.finish(log.id);
      }
      await data.steps.setState(step.id, state);
      await data.steps.finish(step.id, RETRY);
      interruptedSteps.push(step.id);
    }
    await data.builds.finish(build.id, RETRY, state);
  }
  const releasedRequests = await data.buildrequests.unclaimAllOf(masterid);
  await data.ctx.db.deleteFrom('connected_workers').where('masterid', '=', masterid).execute();
  await data.ctx.db.deleteFrom('builder_masters').where('masterid', '=', masterid).execute();
  // Its schedulers and change sources go to other masters now rather than when the leases run out.
  await data.leases.release(masterid);
  return { masterid, interruptedBuilds: builds.map((b) => b.id), interruptedSteps, releasedRequests };
}

/**
 * Deactivates masters whose heartbeat is older than `expireSeconds` and cleans up after
 * them. Only the master that flips `active` does the cleanup, so two survivors never
 * both do it.
 */
export async function expireMasters(
  data: DataLayer,
  selfMasterid: number,
  expireSeconds: number,
): Promise<HousekeepingReport[]> {
  const cutoff = data.ctx.now() - expireSeconds;
  const reports: HousekeepingReport[] = [];
  for (const m of await data.masters.findExpired(cutoff, selfMasterid)) {
    if (await data.masters.setInactive(m.id)) {
      reports.push(await cleanUpAfterMaster(data, m.id, `interrupted: master ${m.name} stopped responding`));
    }
  }
  return reports;
}

/**
 * What a master does first at start-up: take its row, and if its previous run never
 * stopped cleanly (`kill -9`, power loss), finish that run's builds and release its
 * requests before claiming anything new.
 */
export async function registerAndRecover(
  data: DataLayer,
  name: string,
): Promise<{ masterid: number; recovered: HousekeepingReport | null }> {
  const { masterid, previousRunCrashed } = await data.masters.register(name);
  const recovered = previousRunCrashed ? await cleanUpAfterMaster(data, masterid) : null;
  data.bus.publish('master.started', { masterid, name });
  return { masterid, recovered };
}

/** A clean stop: nothing is left for others to clean up. */
export async function markStopped(data: DataLayer, masterid: number, name: string): Promise<void> {
  await data.masters.setInactive(masterid);
  data.bus.publish('master.stopped', { masterid, name });
}
