// Reads what a report says about a build from the database: the build with its builder,
// worker and source, the previous result, the blamelist, the failing steps' log tails and
// the bisection. Generators call these once per event and share the answers.
import { outputTail } from '../control/build-report.js';
import type { ChangeRow } from '../data/changes.js';
import { parseJson } from '../data/context.js';
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

/** Rows (a build per source stamp) read looking for the previous build on the branch: 100 at most. */
const PREVIOUS_BUILD_PAGES = [10, 90];

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

  /** The build with its builder, worker, reason and first source stamp, read in one query. */
  async build(buildid: number): Promise<ReportBuild | null> {
    const b = await this.data.ctx.db
      .selectFrom('builds')
      .leftJoin('builders', 'builders.id', 'builds.builderid')
      .leftJoin('workers', 'workers.id', 'builds.workerid')
      .leftJoin('buildrequests', 'buildrequests.id', 'builds.buildrequestid')
      .leftJoin('buildsets', 'buildsets.id', 'buildrequests.buildsetid')
      // A buildset's first source stamp: the lowest id, as BuildsetsData lists them.
      .leftJoin('sourcestamps', (join) =>
        join.on('sourcestamps.id', '=', (eb) =>
          eb
            .selectFrom('buildset_sourcestamps')
            .select((e) => e.fn.min('buildset_sourcestamps.sourcestampid').as('id'))
            .whereRef('buildset_sourcestamps.buildsetid', '=', 'buildrequests.buildsetid'),
        ),
      )
      .select([
        'builds.number',
        'builds.builderid',
        'builds.results',
        'builds.state_string',
        'builds.started_at',
        'builds.complete_at',
        'builders.name as builder_name',
        'builders.tags as builder_tags',
        'builders.project as builder_project',
        'workers.name as worker_name',
        'buildsets.reason',
        'sourcestamps.branch',
        'sourcestamps.revision',
        'sourcestamps.repository',
        'sourcestamps.project',
      ])
      .where('builds.id', '=', buildid)
      .executeTakeFirst();
    if (!b) return null;
    const properties: Record<string, unknown> = {};
    for (const [name, [value]] of Object.entries(await this.data.builds.properties(buildid)))
      properties[name] = value;
    return {
      buildid,
      number: b.number,
      builderid: b.builderid,
      builderName: b.builder_name ?? `builder ${b.builderid}`,
      tags: b.builder_tags === null ? [] : parseJson<string[]>(b.builder_tags, []),
      results: b.results as Result | null,
      stateString: b.state_string,
      startedAt: b.started_at,
      completeAt: b.complete_at,
      workerName: b.worker_name ?? null,
      url: buildUrl(this.buildbotURL(), b.builderid, b.number),
      reason: b.reason ?? null,
      branch: b.branch ?? null,
      revision: b.revision ?? null,
      repository: b.repository ?? null,
      project: b.project || b.builder_project || null,
      properties,
    };
  }

  /** The result of the builder's latest finished build before this one, on the same branch. */
  async previousResults(build: ReportBuild): Promise<Result | null> {
    // The builder's latest finished builds with their source stamps' branches, newest first,
    // a small page first: the build before is usually on the same branch.
    let below = build.number;
    let lastNumber: number | null = null;
    for (const limit of PREVIOUS_BUILD_PAGES) {
      const earlier = await this.data.ctx.db
        .selectFrom('builds')
        .innerJoin('buildrequests', 'buildrequests.id', 'builds.buildrequestid')
        .innerJoin('buildset_sourcestamps', 'buildset_sourcestamps.buildsetid', 'buildrequests.buildsetid')
        .innerJoin('sourcestamps', 'sourcestamps.id', 'buildset_sourcestamps.sourcestampid')
        .select(['builds.number', 'builds.results', 'sourcestamps.branch', 'sourcestamps.id as ssid'])
        .where('builds.builderid', '=', build.builderid)
        .where('builds.number', '<', below)
        .where('builds.complete_at', 'is not', null)
        .orderBy('builds.number', 'desc')
        .orderBy('sourcestamps.id')
        .limit(limit)
        .execute();
      for (const e of earlier) {
        if (e.number === lastNumber) continue; // only a build's first source stamp counts
        lastNumber = e.number;
        if (e.branch === build.branch) return e.results as Result;
      }
      if (earlier.length < limit) return null;
      // The next page starts below the last build seen, whose first source stamp was read.
      below = earlier.at(-1)!.number;
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
