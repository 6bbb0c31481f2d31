// The force, triggerable and dependent schedulers and the old-build canceller, on a real
// master with a real Lathe worker: a force takes each parameter type (as text, as
// `lathe force -p` sends them) into build properties and refuses bad values naming them,
// adding nothing; a Trigger step names a triggerable scheduler and waits for its build; a
// dependent scheduler builds after its upstream succeeds and not after it fails; commits
// pushed to a real git repository make a scheduler with cancelOldBuilds stop the build
// of the older commit.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { PBError } from '@lathe/pb';
import { forceOne } from '../src/control/build-actions.js';
import type { Master } from '../src/master.js';
import { waitForRequest } from '../src/process/control.js';
import { CANCELLED, FAILURE, SUCCESS } from '../src/results.js';
import { findForceScheduler } from '../src/schedulers/force.js';
import { ForceParameterError } from '../src/schedulers/force-parameters.js';
import { waitFor, workerAvailable } from './bbworker.js';
import { gitIn } from './git-repo.js';
import { tempDir } from './helpers.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';

const latheIndex = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

function configText(repo: string): string {
  return `import { booleanParameter, buildFactory, choiceParameter, defineConfig, dependentScheduler, forceScheduler,
  gitPoller, intParameter, interpolate, nestedParameter, shellCommand, singleBranchScheduler, stringParameter,
  textParameter, trigger, triggerableScheduler } from '${latheIndex}';
const passOrFail = buildFactory(shellCommand({ command: interpolate('test "%(prop:outcome)s" = pass') }));
const echo = buildFactory(shellCommand({ command: 'echo ok' }));
const outcome = choiceParameter({ name: 'outcome', choices: ['pass', 'fail'] });
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [
    { name: 'forced', workerNames: ['w1'], factory: echo },
    { name: 'parent', workerNames: ['w1'], factory: buildFactory(
      trigger({ schedulerNames: ['child-trig'], waitForFinish: true, copyProperties: ['outcome'], setProperties: { colour: 'red' } })) },
    { name: 'child', workerNames: ['w1'], factory: passOrFail },
    { name: 'up', workerNames: ['w1'], factory: passOrFail },
    { name: 'down', workerNames: ['w1'], factory: echo },
    { name: 'slow', workerNames: ['w1'], factory: buildFactory(
      shellCommand({ command: interpolate('echo building %(prop:revision)s; sleep 60') })) },
  ],
  changeSources: [gitPoller({ repourl: ${JSON.stringify(repo)}, branches: ['main'], pollInterval: 0.5 })],
  schedulers: [
    forceScheduler({
      name: 'force-all',
      builderNames: ['forced'],
      reasonString: '%(owner)s wants: %(reason)s',
      parameters: [
        stringParameter({ name: 'label', regex: /[a-z-]+/ }),
        textParameter({ name: 'notes' }),
        intParameter({ name: 'jobs', min: 1, max: 64, default: 2 }),
        booleanParameter({ name: 'dry' }),
        choiceParameter({ name: 'target', choices: ['debug', 'release'] }),
        nestedParameter({ name: 'deploy', fields: [stringParameter({ name: 'host', required: true }), intParameter({ name: 'port', default: 22 })] }),
      ],
    }),
    forceScheduler({ name: 'force-parent', builderNames: ['parent'], parameters: [outcome] }),
    forceScheduler({ name: 'force-up', builderNames: ['up'], parameters: [outcome] }),
    triggerableScheduler({ name: 'child-trig', builderNames: ['child'], properties: { via: 'triggerable' } }),
    dependentScheduler({ name: 'after-up', upstream: 'force-up', builderNames: ['down'] }),
    singleBranchScheduler({ name: 'on-main', branch: 'main', builderNames: ['slow'], cancelOldBuilds: true }),
  ],
});
`;
}

describe('force, triggerable and dependent schedulers, old-build canceller', {
  skip: !workerAvailable('lathe'),
}, () => {
  const dir = tempDir('lathe-schedulers-e2e-');
  const repo = join(dir.path, 'repo');
  let env: MasterAndWorker | undefined;
  let master: Master;

  const git = gitIn(repo);
  const commit = (file: string, text: string) => {
    writeFileSync(join(repo, file), text);
    git('add', file);
    git('commit', '-q', '-m', text);
    return git('rev-parse', 'HEAD');
  };

  before(async () => {
    mkdirSync(repo, { recursive: true });
    git('init', '-q', '-b', 'main');
    commit('README', 'start');
    env = await startMasterAndWorker({
      kind: 'lathe',
      masterDir: join(dir.path, 'master'),
      workerDir: join(dir.path, 'worker'),
      configText: configText(repo),
      name: 'schedulers-e2e',
      quiet: true,
    });
    master = env.master;
  });
  after(async () => {
    await env?.stop();
    dir.cleanup();
  });

  const builderid = (name: string) => master.builders.get(name)!.builderid;
  const requestsOf = async (builder: string) =>
    (
      await master.db.kysely
        .selectFrom('buildrequests')
        .select(['id', 'buildsetid'])
        .where('builderid', '=', builderid(builder))
        .orderBy('id')
        .execute()
    ).map((r) => ({ id: r.id, buildsetid: r.buildsetid }));
  const buildsetCount = async () =>
    Number(
      (
        await master.db.kysely
          .selectFrom('buildsets')
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const buildOf = async (buildrequestid: number) => {
    await waitForRequest(master, buildrequestid, 60_000);
    const [build] = await master.data.builds.forRequest(buildrequestid);
    assert.ok(build, `a build of request ${buildrequestid}`);
    return build;
  };
  const force = (scheduler: string, params: Record<string, unknown>, sources = [{}]) =>
    findForceScheduler(master.schedulers.values(), { scheduler }).force({
      owner: 'ann',
      reason: 'testing',
      params,
      sources,
    });

  it('force: each parameter type, given as text, becomes a typed build property', async () => {
    const forced = await force('force-all', {
      label: 'nightly-ish',
      notes: 'line one\nline two',
      jobs: '8',
      dry: 'yes',
      target: 'release',
      'deploy.host': 'staging',
      'deploy.port': '2222',
    });
    const build = await buildOf(forced.requests[0]!.buildrequestid);
    assert.equal(build.results, SUCCESS);
    const props = await master.data.builds.properties(build.id);
    const form = 'Force Build Form';
    assert.deepEqual(props.label, ['nightly-ish', form]);
    assert.deepEqual(props.notes, ['line one\nline two', form]);
    assert.deepEqual(props.jobs, [8, form]);
    assert.deepEqual(props.dry, [true, form]);
    assert.deepEqual(props.target, ['release', form]);
    assert.deepEqual(props.deploy, [{ host: 'staging', port: 2222 }, form]);
    assert.deepEqual(props.owner, ['ann', form]);
    assert.deepEqual(props.reason, ['testing', form]);
    assert.deepEqual(props.scheduler, ['force-all', 'Scheduler']);
    assert.equal((await master.data.buildsets.get(forced.buildsetid))?.reason, 'ann wants: testing');

    // Left out: the declared defaults.
    const defaults = await force('force-all', { label: 'x', deploy: { host: 'h' } });
    const dprops = await master.data.builds.properties(
      (await buildOf(defaults.requests[0]!.buildrequestid)).id,
    );
    assert.deepEqual(
      [dprops.jobs?.[0], dprops.dry?.[0], dprops.target?.[0], dprops.notes?.[0], dprops.deploy?.[0]],
      [2, false, 'debug', '', { host: 'h', port: 22 }],
    );
  });

  it('force: bad values are refused, each parameter named, and nothing is added', async () => {
    const before = await buildsetCount();
    const err = await force('force-all', {
      label: 'Not Allowed',
      notes: 42,
      jobs: 'many',
      dry: 'maybe',
      target: 'fast',
      'deploy.port': '99999999999999999999',
      colour: 'blue',
    }).then(
      () => assert.fail('the force was accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ForceParameterError, String(err));
    assert.deepEqual(err.problems.map((p) => p.parameter).sort(), [
      'colour',
      'deploy.host',
      'deploy.port',
      'dry',
      'jobs',
      'label',
      'notes',
      'target',
    ]);
    const message = (name: string) => err.problems.find((p) => p.parameter === name)?.message;
    assert.match(message('jobs')!, /must be an integer, got "many"/);
    assert.match(message('target')!, /must be one of "debug", "release", got "fast"/);
    assert.match(message('deploy.host')!, /is required/);
    assert.match(message('colour')!, /is not declared/);
    // Out of range, and a single-line string given two lines.
    await assert.rejects(
      force('force-all', { label: 'a', jobs: 0, deploy: { host: 'h' } }),
      /"jobs" must be at least 1/,
    );
    await assert.rejects(
      force('force-all', { label: 'a\nb', deploy: { host: 'h' } }),
      /"label" must be a single line/,
    );
    // The control path (`lathe force`) says the same to the user.
    await assert.rejects(
      forceOne(master, {
        builder: 'forced',
        owner: 'ann',
        reason: 'r',
        params: { label: 'ok', jobs: 'lots', 'deploy.host': 'h' },
        source: {},
      }),
      (e: unknown) =>
        e instanceof PBError && /parameter "jobs" must be an integer, got "lots"/.test(e.message),
    );
    await assert.rejects(
      forceOne(master, { builder: 'child', owner: 'ann', reason: 'r', params: {}, source: {} }),
      (e: unknown) => e instanceof PBError && /no force scheduler may force builder "child"/.test(e.message),
    );
    assert.equal(await buildsetCount(), before, 'a refused force adds no buildset');
  });

  it('Trigger names a triggerable scheduler and waits for its build', async () => {
    const passed = await force('force-parent', { outcome: 'pass' });
    const parent = await buildOf(passed.requests[0]!.buildrequestid);
    assert.equal(parent.results, SUCCESS);
    const [childRequest] = (await requestsOf('child')).slice(-1);
    assert.ok(childRequest);
    const child = await buildOf(childRequest.id);
    assert.equal(child.results, SUCCESS);
    // The parent finished only after the child it waited for.
    assert.ok(parent.completeAt! >= child.completeAt!, 'the parent waited for the child');
    const props = await master.data.builds.properties(child.id);
    assert.deepEqual(props.scheduler, ['child-trig', 'Scheduler']);
    assert.deepEqual(props.via, ['triggerable', 'Scheduler']);
    assert.deepEqual(props.colour, ['red', 'Trigger']);
    assert.deepEqual(props.outcome, ['pass', 'Trigger']);
    const parentLink = await master.db.kysely
      .selectFrom('buildsets')
      .select(['parent_buildid', 'reason'])
      .where('id', '=', childRequest.buildsetid)
      .executeTakeFirstOrThrow();
    assert.equal(parentLink.parent_buildid, parent.id);
    assert.equal(parentLink.reason, `The Triggerable scheduler named "child-trig" triggered this build`);

    // The waited-for child fails: so does the trigger step, and the parent with it.
    const failed = await force('force-parent', { outcome: 'fail' });
    const parent2 = await buildOf(failed.requests[0]!.buildrequestid);
    assert.equal(parent2.results, FAILURE);
    const step = (await master.data.steps.forBuild(parent2.id)).find((s) => s.name === 'trigger');
    assert.equal(step?.stateString, 'triggered child-trig: 1 failure (failure)');
  });

  it('a dependent scheduler builds after its upstream succeeds, with its source stamps, and not after a failure', async () => {
    const source = { repository: 'https://example.invalid/up.git', branch: 'main', revision: 'c0ffee' };
    const ok = await force('force-up', { outcome: 'pass' }, [source]);
    assert.equal((await buildOf(ok.requests[0]!.buildrequestid)).results, SUCCESS);
    let downstream: { id: number; buildsetid: number } | undefined;
    await waitFor(
      async () => {
        downstream = (await requestsOf('down'))[0];
        return downstream !== undefined;
      },
      20_000,
      'the dependent buildset',
    );
    const down = await buildOf(downstream!.id);
    assert.equal(down.results, SUCCESS);
    assert.deepEqual(
      (await master.data.buildsets.get(downstream!.buildsetid))?.sourcestampids,
      (await master.data.buildsets.get(ok.buildsetid))?.sourcestampids,
    );
    assert.deepEqual((await master.data.builds.properties(down.id)).scheduler, ['after-up', 'Scheduler']);

    const bad = await force('force-up', { outcome: 'fail' }, [source]);
    assert.equal((await buildOf(bad.requests[0]!.buildrequestid)).results, FAILURE);
    await master.bus.idle();
    await new Promise((r) => setTimeout(r, 500));
    await master.bus.idle();
    assert.equal((await requestsOf('down')).length, 1, 'no downstream build after a failed upstream');
  });

  it('a newer commit on the branch cancels the running build of the older one, saying why', async () => {
    const first = commit('a.c', 'first change');
    let old: Awaited<ReturnType<Master['data']['builds']['get']>>;
    await waitFor(
      async () => {
        old = (await master.data.builds.latestForBuilder(builderid('slow')))[0];
        // A build is stored before its properties (as in Buildbot): wait for both.
        return (
          old !== undefined &&
          old.completeAt === null &&
          (await master.data.builds.properties(old.id)).revision !== undefined
        );
      },
      30_000,
      'the build of the first commit to run',
    );
    assert.deepEqual((await master.data.builds.properties(old!.id)).revision, [first, 'Build']);
    const second = commit('b.c', 'second change');
    await waitFor(
      async () => (await master.data.builds.get(old!.id))?.completeAt != null,
      30_000,
      'the superseded build to be stopped',
    );
    const stopped = await master.data.builds.get(old!.id);
    assert.equal(stopped?.results, CANCELLED);
    assert.match(stopped?.stateString ?? '', new RegExp(`superseded by a newer commit \\(main at ${second}`));
    await waitFor(
      async () => {
        const [newest] = await master.data.builds.latestForBuilder(builderid('slow'));
        return (
          newest !== undefined &&
          newest.id !== old!.id &&
          (await master.data.builds.properties(newest.id)).revision !== undefined
        );
      },
      30_000,
      'the build of the second commit',
    );
    const [newest] = await master.data.builds.latestForBuilder(builderid('slow'));
    assert.deepEqual((await master.data.builds.properties(newest!.id)).revision, [second, 'Build']);
    assert.equal(newest?.completeAt, null, 'the newer build runs on');
  });
});
