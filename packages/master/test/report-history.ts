// Builds recorded straight through the data layer, as the build runner records them: a
// change, its buildset and request, the build, a step with a stdio log, the results. For
// reporter tests, which are about what happens after a build finishes, not about running it.
import type { DataLayer } from '../src/data/index.js';
import type { Result } from '../src/results.js';

export interface RecordedBuild {
  readonly buildid: number;
  readonly number: number;
  readonly changeid: number;
}

export async function recordBuild(
  data: DataLayer,
  masterid: number,
  spec: {
    readonly builder: string;
    readonly author: string;
    readonly results: Result;
    readonly output?: readonly string[];
    readonly branch?: string;
    readonly tags?: readonly string[];
  },
): Promise<RecordedBuild> {
  const builderid = await data.builders.findOrCreate(spec.builder);
  if (spec.tags) await data.builders.update(builderid, { tags: spec.tags });
  const changeid = await data.changes.add({
    author: spec.author,
    comments: `change by ${spec.author}\n\nmore words`,
    branch: spec.branch ?? 'main',
    revision: `rev${Math.random().toString(16).slice(2, 12)}`,
    repository: 'https://example.org/app.git',
    files: ['src/app.c'],
  });
  const change = (await data.changes.get(changeid))!;
  const set = await data.buildsets.add({
    sourcestampids: [change.sourcestampid],
    builderids: [builderid],
    reason: 'a new commit',
    changeids: [changeid],
  });
  const brid = set.buildrequestids.get(builderid)!;
  await data.buildrequests.claim([brid], masterid);
  const build = await data.builds.add({ builderid, buildrequestid: brid, workerid: null, masterid });
  const step = await data.steps.add(build.buildid, 'compile');
  await data.steps.start(step.stepid);
  const logid = await data.logs.add(step.stepid, 'stdio', 's');
  const lines = [...(spec.output ?? ['compiling']), 'done'];
  await data.logs.append(logid, lines.map((l) => `o${l}\n`).join(''));
  await data.logs.finish(logid);
  await data.steps.finish(step.stepid, spec.results);
  await data.builds.finish(build.buildid, spec.results);
  await data.buildrequests.complete([brid], spec.results, masterid);
  return { buildid: build.buildid, number: build.number, changeid };
}
