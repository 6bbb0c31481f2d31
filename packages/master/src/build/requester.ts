// What a step may do with other builds (the Trigger step): add a buildset whose parent is
// the running build, wait for its requests, and cancel them. Cancelling stops a build that
// runs on this master, or claims and completes a request nobody has claimed yet.
import type { BuildRequester, BuildsetRequest, SourceSpec } from '../config/steps.js';
import { AlreadyClaimedError } from '../data/errors.js';
import type { Master } from '../master.js';
import { CANCELLED, type Result } from '../results.js';
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
  constructor(
    private readonly master: Master,
    private readonly runner: RunningBuildsView,
    private readonly parent: { buildid: number; builderName: string },
    readonly sources: readonly SourceSpec[],
  ) {}

  async request(spec: BuildsetRequest) {
    const builders = spec.builderNames.map((name) => {
      const b = this.master.builders.get(name);
      if (!b) throw new UnknownTriggeredBuilderError(name);
      return { name, builderid: b.builderid };
    });
    const sourcestampids: number[] = [];
    for (const ss of spec.sources) sourcestampids.push(await this.master.data.sourcestamps.findOrCreate(ss));
    const added = await this.master.data.buildsets.add({
      sourcestampids,
      builderids: builders.map((b) => b.builderid),
      reason: spec.reason,
      properties: spec.properties,
      parentBuildid: this.parent.buildid,
      parentRelationship: `Triggered from ${this.parent.builderName}`,
    });
    return {
      buildsetid: added.buildsetid,
      requests: builders.map((b) => ({
        builder: b.name,
        buildrequestid: added.buildrequestids.get(b.builderid)!,
      })),
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
