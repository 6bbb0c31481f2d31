// Reads what a report says about a build from the database: the build with its builder,
// worker and source, the previous result, the blamelist, the failing steps' log tails and
// the bisection. Generators call these once per event and share the answers.
import { outputTail } from '../control/build-report.js';
import type { ChangeRow } from '../data/changes.js';
import type { DataLayer } from '../data/index.js';
import { type Result, SKIPPED, SUCCESS, WARNINGS } from '../results.js';
import { buildUrl } from '../urls.js';
import type { ReportBisection, ReportBuild, ReportChange, ReportStep } from './report.js';

/** `Name <address>` → address; a bare address is its own. */
export function authorEmail(author: string): string | null {
  const m = /<([^<>\s]+@[^<>\s]+)>/.exec(author) ?? /^([^<>\s]+@[^<>\s]+)$/.exec(author.trim());
  return m ? m[1]! : null;
}

export function reportChange(c: ChangeRow): ReportChange {
  return {
    changeid: c.id,
    author: c.author,
    email: authorEmail(c.author),
    revision: c.revision,
    branch: c.branch,
    repository: c.repository,
    comments: c.comments,
    files: c.files,
    revlink: c.revlink,
  };
}

export class ReportReader {
  constructor(
    private readonly data: DataLayer,
    private readonly buildbotURL: () => string,
    /** A worker's `notifyOnMissing` addresses, from the running config. */
    readonly notifyOnMissing: (worker: string) => readonly string[] = () => [],
  ) {}

  async buildset(
    buildsetid: number,
  ): Promise<{ results: Result | null; reason: string | null; builds: ReportBuild[] } | null> {
    const set = await this.data.buildsets.get(buildsetid);
    if (!set) return null;
    const rows = await this.data.ctx.db
      .selectFrom('builds')
      .innerJoin('buildrequests', 'buildrequests.id', 'builds.buildrequestid')
      .select('builds.id')
      .where('buildrequests.buildsetid', '=', buildsetid)
      .orderBy('builds.id')
      .execute();
    const builds: ReportBuild[] = [];
    for (const r of rows) {
      const b = await this.build(r.id);
      if (b) builds.push(b);
    }
    return { results: set.results, reason: set.reason, builds };
  }

  async build(buildid: number): Promise<ReportBuild | null> {
    const { data } = this;
    const b = await data.builds.get(buildid);
    if (!b) return null;
    const builder = await data.builders.get(b.builderid);
    const worker = b.workerid === null ? undefined : await data.workers.get(b.workerid);
    const request = await data.buildrequests.get(b.buildrequestid);
    const buildset = request && (await data.buildsets.get(request.buildsetid));
    const ssid = buildset?.sourcestampids[0];
    const stamp = ssid === undefined ? undefined : await data.sourcestamps.get(ssid);
    const properties: Record<string, unknown> = {};
    for (const [name, [value]] of Object.entries(await data.builds.properties(buildid)))
      properties[name] = value;
    return {
      buildid,
      number: b.number,
      builderid: b.builderid,
      builderName: builder?.name ?? `builder ${b.builderid}`,
      tags: builder?.tags ?? [],
      results: b.results,
      stateString: b.stateString,
      startedAt: b.startedAt,
      completeAt: b.completeAt,
      workerName: worker?.name ?? null,
      url: buildUrl(this.buildbotURL(), b.builderid, b.number),
      reason: buildset?.reason ?? null,
      branch: stamp?.branch ?? null,
      revision: stamp?.revision ?? null,
      repository: stamp?.repository ?? null,
      project: stamp?.project || builder?.project || null,
      properties,
    };
  }

  /** The result of the builder's latest finished build before this one, on the same branch. */
  async previousResults(build: ReportBuild): Promise<Result | null> {
    // One query: the builder's latest finished builds with their first source stamp's branch.
    const earlier = await this.data.ctx.db
      .selectFrom('builds')
      .innerJoin('buildrequests', 'buildrequests.id', 'builds.buildrequestid')
      .innerJoin('buildset_sourcestamps', 'buildset_sourcestamps.buildsetid', 'buildrequests.buildsetid')
      .innerJoin('sourcestamps', 'sourcestamps.id', 'buildset_sourcestamps.sourcestampid')
      .select(['builds.number', 'builds.results', 'sourcestamps.branch', 'sourcestamps.id as ssid'])
      .where('builds.builderid', '=', build.builderid)
      .where('builds.number', '<', build.number)
      .where('builds.complete_at', 'is not', null)
      .orderBy('builds.number', 'desc')
      .orderBy('sourcestamps.id')
      .limit(100)
      .execute();
    const seen = new Set<number>();
    for (const e of earlier) {
      if (seen.has(e.number)) continue; // only a build's first source stamp counts
      seen.add(e.number);
      if (e.branch === build.branch) return e.results as Result;
    }
    return null;
  }

  async blamelist(buildid: number): Promise<ReportChange[]> {
    const blame = await this.data.blame.blamelist(buildid);
    return (blame?.changes ?? []).map(reportChange);
  }

  /** Changes of the buildset's source stamps. */
  async buildsetChanges(buildids: readonly number[]): Promise<ReportChange[]> {
    const seen = new Map<number, ReportChange>();
    for (const id of buildids) for (const c of await this.blamelist(id)) seen.set(c.changeid, c);
    return [...seen.values()].sort((a, b) => a.changeid - b.changeid);
  }

  /** Steps that did not pass, with the tail of their output. */
  async failedSteps(buildid: number): Promise<ReportStep[]> {
    const out: ReportStep[] = [];
    for (const step of await this.data.steps.forBuild(buildid)) {
      if (step.results === null || [SUCCESS, WARNINGS, SKIPPED].includes(step.results)) continue;
      const stdio = (await this.data.logs.forStep(step.id)).find((l) => l.type === 's');
      out.push({
        name: step.name,
        results: step.results,
        stateString: step.stateString,
        logTail: stdio ? await outputTail(this.data, stdio.id, stdio.numLines) : [],
      });
    }
    return out;
  }

  async bisection(buildid: number): Promise<ReportBisection | null> {
    const row = await this.data.bisections.get(buildid);
    if (!row) return null;
    const firstBad =
      row.firstBadChangeid === null ? undefined : await this.data.changes.get(row.firstBadChangeid);
    return {
      state: row.state,
      firstBad: firstBad ? reportChange(firstBad) : null,
      evidence: row.summary || null,
    };
  }
}
