// What a step may do with other builds (the Trigger step): add a buildset whose parent is
// the running build, learn when its builds start, wait for its requests, and cancel them.
// Cancelling stops a build that runs on this master, or claims and completes a request
// nobody has claimed yet.

import { AlreadyClaimedError } from '../data/errors.js';
import type { Master } from '../master.js';
import { CANCELLED, type Result } from '../results.js';
import { findTriggerable } from '../schedulers/triggerable.js';
import type {
  BuildRequester,
  BuildsetRequest,
  BuildWatch,
  SourceSpec,
  StartedBuild,
} from '../steps/contract.js';
import { buildRequestUrl, buildUrl } from '../urls.js';
import { waitForRequest } from './control.js';

/** A Trigger named a builder this master does not have. */
export class UnknownTriggeredBuilderError extends Error {
  override readonly name = 'UnknownTriggeredBuilderError';
  constructor(readonly builder: string) {
    super(`trigger: no builder named ${JSON.stringify(builder)}`);
  }
}

export interface RunningBuildsView {
  stopBuild(buildid: number, reason: string, result: Result): boolean;
  running(): readonly { buildid: number; buildrequestid: number }[];
}

export class MasterBuildRequester implements BuildRequester {
  /** The builder of each request this requester added, to name their builds. */
  readonly #builderNames = new Map<number, string>();

  constructor(
    private readonly master: Master,
    private readonly runner: RunningBuildsView,
    private readonly parent: { buildid: number; builderName: string },
    readonly sources: readonly SourceSpec[],
  ) {}

  async request(spec: BuildsetRequest) {
    const sourcestampids: number[] = [];
    for (const ss of spec.sources) sourcestampids.push(await this.master.data.sourcestamps.findOrCreate(ss));
    const parentRelationship = `Triggered from ${this.parent.builderName}`;
    const added: { buildsetid: number; requests: { builder: string; buildrequestid: number }[] }[] = [];
    if (spec.schedulerNames) {
      // All looked up before any is triggered: an unknown name triggers nothing.
      const schedulers = spec.schedulerNames.map((n) => findTriggerable(this.master.schedulers.values(), n));
      for (const scheduler of schedulers) {
        const bs = await scheduler.trigger({
          sourcestampids,
          properties: spec.properties,
          propertiesSource: spec.propertiesSource ?? 'Trigger',
          reason: spec.reason,
          parentBuildid: this.parent.buildid,
          parentRelationship,
        });
        if (bs) added.push({ buildsetid: bs.buildsetid, requests: [...bs.requests] });
      }
    } else {
      const builders = (spec.builderNames ?? []).map((name) => {
        const b = this.master.builders.get(name);
        if (!b) throw new UnknownTriggeredBuilderError(name);
        return { name, builderid: b.builderid };
      });
      const bs = await this.master.data.buildsets.add({
        sourcestampids,
        builderids: builders.map((b) => b.builderid),
        reason: spec.reason,
        properties: spec.properties,
        ...(spec.propertiesSource === undefined ? {} : { propertiesSource: spec.propertiesSource }),
        parentBuildid: this.parent.buildid,
        parentRelationship,
      });
      added.push({
        buildsetid: bs.buildsetid,
        requests: builders.map((b) => ({
          builder: b.name,
          buildrequestid: bs.buildrequestids.get(b.builderid)!,
        })),
      });
    }
    const base = this.master.config.buildbotURL;
    return {
      buildsetids: added.map((a) => a.buildsetid),
      requests: added.flatMap((a) =>
        a.requests.map(({ builder, buildrequestid }) => {
          this.#builderNames.set(buildrequestid, builder);
          return { builder, buildrequestid, url: buildRequestUrl(base, buildrequestid) };
        }),
      ),
    };
  }

  watchBuilds(buildrequestids: readonly number[], onStarted: (build: StartedBuild) => void): BuildWatch {
    const wanted = new Set(buildrequestids);
    const reported = new Set<number>();
    let stopped = false;
    const report = (b: { buildid: number; builderid: number; number: number; buildrequestid: number }) => {
      if (stopped || reported.has(b.buildid) || !wanted.has(b.buildrequestid)) return;
      reported.add(b.buildid);
      onStarted({
        buildrequestid: b.buildrequestid,
        builder: this.#builderNames.get(b.buildrequestid) ?? `builder ${b.builderid}`,
        builderid: b.builderid,
        buildid: b.buildid,
        number: b.number,
        // Read now, not at request time: a reconfig may have moved the UI meanwhile.
        url: buildUrl(this.master.config.buildbotURL, b.builderid, b.number),
      });
    };
    // Subscribe first, then look: a build starting between the two is not missed, and one
    // seen both ways is reported once.
    const sub = this.master.bus.subscribe('build.started', (m) => report(m.payload), {
      name: `trigger: builds of requests ${[...wanted].join(',')}`,
    });
    const sweep = async () => {
      for (const id of wanted) {
        for (const b of await this.master.data.builds.forRequest(id)) report({ ...b, buildid: b.id });
      }
    };
    // Its error, if any, is the stop's to report.
    const first = sweep().then(
      () => null,
      (err: unknown) => ({ err }),
    );
    return {
      stop: async () => {
        try {
          const failed = await first;
          if (failed) throw failed.err;
          // The bus delivers asynchronously: a build recorded before the stop is reported
          // even while its event still waits in the queue.
          await sweep();
        } finally {
          stopped = true;
          sub.unsubscribe();
        }
      },
    };
  }

  async wait(buildrequestid: number): Promise<Result> {
    const row = await waitForRequest(this.master, buildrequestid);
    return row.results ?? CANCELLED;
  }

  async cancel(buildrequestid: number, reason: string): Promise<void> {
    // A distributor may claim the request between our looks; a few rounds settle it.
    for (let attempt = 0; attempt < 20; attempt++) {
      const row = await this.master.data.buildrequests.get(buildrequestid);
      if (!row || row.complete) return;
      const running = this.runner.running().find((b) => b.buildrequestid === buildrequestid);
      if (running) {
        this.runner.stopBuild(running.buildid, reason, CANCELLED);
        return;
      }
      if (row.claimedByMaster === null) {
        try {
          await this.master.data.buildrequests.claim([buildrequestid], this.master.masterid);
          await this.master.data.buildrequests.complete([buildrequestid], CANCELLED, this.master.masterid);
          return;
        } catch (err) {
          if (!(err instanceof AlreadyClaimedError)) throw err;
        }
      }
      // Claimed but its build not registered yet (or claimed by another master): look again.
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
