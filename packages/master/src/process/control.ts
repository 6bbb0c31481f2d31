// What a control channel (`lathe force`, `lathe status`; the planned web UI) needs to start a build
// and follow it: create a buildset for one builder and wait for its request to complete.
// Progress in between is on the bus: `build.started` (carries the buildrequestid),
// `step.*.<buildid>.*`, `log.append.<stepid>.<logid>`, `build.finished.<builderid>.<buildid>`.
import type { BuildRequestRow } from '../data/buildrequests.js';
import type { Master } from '../master.js';

export interface ForceBuildSpec {
  readonly builder: string;
  readonly repository?: string;
  readonly branch?: string | null;
  readonly revision?: string | null;
  readonly project?: string;
  readonly codebase?: string;
  readonly reason?: string;
  readonly properties?: Readonly<Record<string, unknown>>;
  readonly priority?: number;
}

export class UnknownBuilderError extends Error {
  override readonly name = 'UnknownBuilderError';
  constructor(readonly builder: string) {
    super(`no builder named ${JSON.stringify(builder)}`);
  }
}

export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  constructor(
    readonly buildrequestid: number,
    readonly timeoutMs: number,
  ) {
    super(`build request ${buildrequestid} did not complete within ${timeoutMs} ms`);
  }
}

/** Queues a build of `spec.builder`; the distributor starts it when a worker is free. */
export async function forceBuild(
  master: Master,
  spec: ForceBuildSpec,
): Promise<{ buildsetid: number; buildrequestid: number }> {
  const builder = master.builders.get(spec.builder);
  if (!builder) throw new UnknownBuilderError(spec.builder);
  const ssid = await master.data.sourcestamps.findOrCreate({
    repository: spec.repository ?? '',
    branch: spec.branch ?? null,
    revision: spec.revision ?? null,
    project: spec.project ?? '',
    codebase: spec.codebase ?? '',
  });
  const added = await master.data.buildsets.add({
    sourcestampids: [ssid],
    builderids: [builder.builderid],
    reason: spec.reason ?? 'forced build',
    properties: spec.properties ?? {},
    // Buildbot's name for properties given when forcing a build.
    propertiesSource: 'Force Build Form',
    ...(spec.priority === undefined ? {} : { priority: spec.priority }),
  });
  return { buildsetid: added.buildsetid, buildrequestid: added.buildrequestids.get(builder.builderid)! };
}

/** How often a waiter looks in the database besides listening on the bus. */
export const REQUEST_RECHECK_MS = 2_000;

/**
 * Resolves with the request once it is complete — after any RETRY builds were run again.
 * Rejects with RequestTimeoutError after `timeoutMs` (default: wait forever). Listens on
 * the bus and also looks in the database every `recheckMs`: another master completes
 * requests without an event here, and a missed event must not leave a waiter hanging.
 */
export async function waitForRequest(
  master: Master,
  buildrequestid: number,
  timeoutMs?: number,
  recheckMs = REQUEST_RECHECK_MS,
): Promise<BuildRequestRow> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const recheck = setInterval(() => {
      check().catch(fail);
    }, recheckMs);
    recheck.unref();
    const finish = () => {
      done = true;
      sub.unsubscribe();
      clearTimeout(timer);
      clearInterval(recheck);
    };
    const fail = (err: unknown) => {
      if (done) return;
      finish();
      reject(err);
    };
    const check = async () => {
      const row = await master.data.buildrequests.get(buildrequestid);
      if (row?.complete && !done) {
        finish();
        resolve(row);
      }
    };
    // Subscribe first, then look: a completion between the two is not missed.
    const sub = master.bus.subscribe(`buildrequest.complete.*.${buildrequestid}`, () => check().catch(fail), {
      name: `wait:buildrequest:${buildrequestid}`,
    });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => fail(new RequestTimeoutError(buildrequestid, timeoutMs)), timeoutMs);
    }
    check().catch(fail);
  });
}
