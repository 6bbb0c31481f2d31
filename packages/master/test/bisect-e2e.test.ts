// Blame and bisection end to end: a real git repository, polled by the git poller, whose
// eight new commits reach one build through a tree-stable timer; the fifth breaks the C
// project `make test` compiles. The failing build's blamelist names all eight changes,
// the bisection (builder `bisect: true`) finds the fifth within ⌈log₂ 8⌉ + 1 = 4 builds,
// suspect first, and its verdict, evidence and the blamelist are read over HTTP from the
// data API. Bisection builds are marked, bisect nothing themselves and never count as the
// last passing build.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { formatReport } from '../src/cli/commands/force.js';
import { buildReport } from '../src/control/build-report.js';
import { BISECT_OF_PROPERTY } from '../src/data/blame.js';
import { ApiServer } from '../src/http/server.js';
import type { Master } from '../src/master.js';
import { FAILURE, SUCCESS } from '../src/results.js';
import { waitFor, workerAvailable } from './bbworker.js';
import { gitIn } from './git-repo.js';
import { tempDir } from './helpers.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';

const latheIndex = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const BAD = 5;

function hasTool(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('blamelist and bisection of eight commits', {
  skip: !workerAvailable('lathe') || !hasTool('git') || !hasTool('gcc') || !hasTool('make'),
}, () => {
  const dir = tempDir('lathe-bisect-');
  const repo = join(dir.path, 'repo');
  let env: MasterAndWorker | undefined;
  let master: Master;
  let http: ApiServer;
  let base: string;
  const revisions: string[] = [];
  let failedBuild = 0;

  const git = gitIn(repo);
  const commit = (file: string, text: string, message: string, author?: string) => {
    mkdirSync(join(repo, 'src'), { recursive: true });
    writeFileSync(join(repo, file), text);
    git('add', file);
    git('commit', '-q', '-m', message, ...(author ? ['--author', author] : []));
    return git('rev-parse', 'HEAD');
  };
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
    return (await res.json()) as Record<string, Record<string, unknown>[]>;
  };
  const builderid = () => master.builders.get('app')!.builderid;
  const buildsOfApp = () => master.data.builds.latestForBuilder(builderid(), 100);

  before(async () => {
    mkdirSync(repo);
    git('init', '-q', '-b', 'main');
    // `make test` compiles every C file, warnings as errors: one broken file fails it.
    writeFileSync(join(repo, 'Makefile'), 'test:\n\tgcc -Wall -Werror -fsyntax-only src/*.c\n');
    git('add', 'Makefile');
    commit('src/base.c', 'int base(void) { return 0; }\n', 'base');
    const configText = `import { buildFactory, defineConfig, git, gitPoller, shellCommand, singleBranchScheduler } from '${latheIndex}';
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [{
    name: 'app', workerNames: ['w1'], bisect: true,
    factory: buildFactory(git({ repourl: ${JSON.stringify(repo)} }), shellCommand({ name: 'make test', command: ['make', 'test'] })),
  }],
  changeSources: [gitPoller({ repourl: ${JSON.stringify(repo)}, branches: ['main'], pollInterval: 0.5 })],
  schedulers: [singleBranchScheduler({ name: 'on-main', branch: 'main', treeStableTimer: 2, builderNames: ['app'] })],
});
`;
    env = await startMasterAndWorker({
      kind: 'lathe',
      masterDir: join(dir.path, 'master'),
      workerDir: join(dir.path, 'worker'),
      configText,
      name: 'bisect-e2e',
      quiet: true,
    });
    master = env.master;
    http = new ApiServer({ port: 0, host: '127.0.0.1' });
    await http.start(master);
    base = `http://127.0.0.1:${http.port}/api/v2`;
  });

  after(async () => {
    await http?.stop();
    await env?.stop();
    dir.cleanup();
  });

  it('a first commit builds and passes', async () => {
    // The poller's first poll only learns the head; wait for it before committing.
    await new Promise((r) => setTimeout(r, 1500));
    commit('src/start.c', 'int start(void) { return 1; }\n', 'start');
    await waitFor(
      async () => (await buildsOfApp()).some((b) => b.completeAt !== null),
      30_000,
      'the first build',
    );
    const [first] = await buildsOfApp();
    assert.equal(first?.results, SUCCESS);
  });

  it('eight commits make one failing build whose blamelist lists all eight', async () => {
    for (let i = 1; i <= 8; i++) {
      const body =
        i === BAD
          ? `int part${i}(void) { return undeclared_${i}; }\n`
          : `int part${i}(void) { return ${i}; }\n`;
      revisions.push(commit(`src/part${i}.c`, body, `part ${i}`, `Dev${i} <dev${i}@example.invalid>`));
    }
    await waitFor(
      async () => (await buildsOfApp()).some((b) => b.number === 2 && b.completeAt !== null),
      40_000,
      'the build of the eight commits',
    );
    const build = (await master.data.builds.getByNumber(builderid(), 2))!;
    assert.equal(build.results, FAILURE);
    failedBuild = build.id;
    assert.deepEqual((await master.data.builds.properties(build.id)).revision?.[0], revisions[7]);

    const { changes } = await get(`/builds/${build.id}/blamelist`);
    assert.deepEqual(
      changes!.map((c) => c.revision),
      revisions,
    );
    assert.deepEqual(changes![BAD - 1]!.author, `Dev${BAD} <dev${BAD}@example.invalid>`);
  });

  it('bisection finds the fifth commit within four builds, suspect first, readable on the data API', async () => {
    await waitFor(
      async () => (await master.data.bisections.get(failedBuild))?.completeAt != null,
      90_000,
      'the bisection to end',
    );
    const { bisections } = await get(`/builds/${failedBuild}/bisection`);
    const verdict = bisections![0]!;
    const { changes } = await get(`/builds/${failedBuild}/blamelist`);
    const bad = changes![BAD - 1]!;
    assert.equal(verdict.state, 'found', String(verdict.summary));
    assert.equal(verdict.first_bad_changeid, bad.changeid);
    const suspects = verdict.suspects as { changeid: number; files: string[] }[];
    assert.deepEqual(suspects[0], { ...suspects[0], changeid: bad.changeid, files: [`src/part${BAD}.c`] });

    const evidence = verdict.evidence as {
      revision: string;
      buildid: number;
      results: number;
      verdict: string;
    }[];
    assert.ok(evidence.length >= 1 && evidence.length <= 4, `${evidence.length} bisection builds`);
    // The suspect is confirmed directly: its own revision is bad, the one before it good.
    assert.deepEqual(
      evidence.map((e) => [e.revision, e.verdict]),
      [
        [revisions[BAD - 1], 'bad'],
        [revisions[BAD - 2], 'good'],
      ],
    );
    for (const e of evidence) {
      const props = await master.data.builds.properties(e.buildid);
      assert.deepEqual(props[BISECT_OF_PROPERTY], [failedBuild, 'Bisect'], 'marked as a bisection build');
      assert.deepEqual(props.revision?.[0], e.revision, 'built the revision it names');
      const request = await master.data.buildrequests.get(
        (await master.data.builds.get(e.buildid))!.buildrequestid,
      );
      const buildset = await master.data.buildsets.get(request!.buildsetid);
      assert.match(
        buildset!.reason ?? '',
        new RegExp(`^bisection of build ${failedBuild}: is ${e.revision} bad\\?$`),
      );
      assert.equal(e.results, e.verdict === 'good' ? SUCCESS : FAILURE);
    }
    // The failing bisection build bisected nothing itself.
    const all = await master.db.kysely.selectFrom('bisections').select('buildid').execute();
    assert.deepEqual(
      all.map((r) => r.buildid),
      [failedBuild],
    );
  });

  it("the failed build's report names the suspect, the authors and the verdict", async () => {
    const report = await buildReport(master, failedBuild);
    const lines = formatReport(report!).join('\n');
    assert.match(lines, /step "make test"/);
    // The suspect heads the list.
    assert.match(lines, /blamelist: 8 change\(s\), since build #1:\n {4}change \d+ \w+ by Dev5 /);
    assert.match(
      lines,
      new RegExp(
        `change \\d+ ${revisions[BAD - 1]!.slice(0, 12)} by Dev${BAD} <dev${BAD}@example.invalid>: part ${BAD} \\[suspect: output names src/part${BAD}.c\\]`,
      ),
    );
    assert.match(lines, /by Dev1 <dev1@example.invalid>: part 1$/m);
    assert.match(
      lines,
      /bisection \(found\): first bad change \d+ \(\w+ by Dev5 .*the top suspect, found in 2 build\(s\)/,
    );
  });

  it('a passing bisection build does not end the blamelist: the fix is blamed together with the eight', async () => {
    const fix = commit(`src/part${BAD}.c`, `int part${BAD}(void) { return ${BAD}; }\n`, 'fix part 5');
    let fixed = 0;
    await waitFor(
      async () => {
        const b = (await buildsOfApp()).find((x) => x.completeAt !== null && x.number > 2);
        const props = b && (await master.data.builds.properties(b.id));
        if (b && props?.revision?.[0] === fix && props[BISECT_OF_PROPERTY] === undefined) fixed = b.id;
        return fixed !== 0;
      },
      30_000,
      'the build of the fix',
    );
    assert.equal((await master.data.builds.get(fixed))?.results, SUCCESS);
    const { changes } = await get(`/builds/${fixed}/blamelist`);
    assert.deepEqual(
      changes!.map((c) => c.revision),
      [...revisions, fix],
    );
  });
});
