// Three real `lathe start`ed masters on one SQLite file (one PostgreSQL database in the
// PostgreSQL pass: test-database.ts), each with `cluster` in its config:
// A and B run builds and may run schedulers (each with a real Lathe worker), C is web-only.
// Checked, in one story: a change gets exactly one buildset although every master sees it;
// a Data API subscriber on B sees a build running on A; restarting C disturbs no build;
// `kill -9` of A mid-build → its build is marked RETRY, its request reruns on B, its
// scheduler moves to B within the lease, nothing recorded is lost and no buildset doubles;
// with A back, A and B race for ten changes' requests and each is built once; `lathe stop`
// of B hands the scheduler to A sooner than the lease would.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MasterStatus } from '../src/control/protocol.js';
import { RETRY, SUCCESS } from '../src/results.js';
import { createWorker, type TestWorker, waitFor, workerAvailable } from './bbworker.js';
import { alive, lathe } from './cli-helpers.js';
import { openData, type TestData, tempDir } from './helpers.js';
import { TEST_DB, testDatabaseUrl } from './test-database.js';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Leases and claims of a dead master expire after this; short so that the test takes seconds. */
const LEASE_SECONDS = 5;

interface MasterSpec {
  readonly workerPort: number;
  readonly wwwPort: number | null;
  readonly roles: readonly string[];
}

function configText(dbUrl: string, marker: string, m: MasterSpec): string {
  return `import { buildFactory, defineConfig, pbChangeSource, shellCommand, singleBranchScheduler } from '@lathe/master';
export default defineConfig({
  workerPort: ${m.workerPort},
  workers: [{ name: 'w1', password: 'pw-1' }, { name: 'w2', password: 'pw-2' }],
  builders: [
    {
      name: 'long',
      workerNames: ['w1', 'w2'],
      factory: buildFactory(
        // The first run holds until its master is killed; the rerun passes.
        shellCommand({
          name: 'hold',
          command: 'if [ -f ${marker} ]; then echo second run; exit 0; fi; touch ${marker}; echo first run; exec sleep 300',
        }),
      ),
    },
    { name: 'quick', workerNames: ['w1', 'w2'], factory: buildFactory(shellCommand({ name: 'say', command: 'echo built' })) },
  ],
  changeSources: [pbChangeSource({})],
  schedulers: [singleBranchScheduler({ name: 'on-main', branch: 'main', builderNames: ['quick'] })],
  db: { url: ${JSON.stringify(dbUrl)} },
  masterExpirySeconds: ${LEASE_SECONDS},
  cluster: { roles: ${JSON.stringify(m.roles)}, leaseSeconds: ${LEASE_SECONDS}, heartbeatSeconds: 1, pollMs: 100 },
  ${m.wwwPort === null ? '' : `www: { port: ${m.wwwPort} },`}
});
`;
}

interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: Record<string, unknown>;
}

/**
 * Reads a server-sent event stream into `events` until aborted; resolves with the position
 * the server announces first (`: position …`).
 */
function follow(
  url: string,
  events: SseEvent[],
  signal: AbortSignal,
  headers: Record<string, string> = {},
): Promise<string> {
  return new Promise<string>((resolvePosition, reject) => {
    void (async () => {
      const res = await fetch(url, { signal, headers });
      const decoder = new TextDecoder();
      let text = '';
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
        let end = text.indexOf('\n\n');
        while (end >= 0) {
          const frame = text.slice(0, end);
          text = text.slice(end + 2);
          const position = /^: position (.*)$/m.exec(frame)?.[1];
          if (position) resolvePosition(position);
          const id = /^id: (.*)$/m.exec(frame)?.[1];
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event && data) events.push({ id, event, data: JSON.parse(data) as Record<string, unknown> });
          end = text.indexOf('\n\n');
        }
      }
    })().catch(reject);
  });
}

const ON = TEST_DB === 'sqlite' ? 'one SQLite file' : 'one PostgreSQL database';

describe(`several masters on ${ON}`, { skip: !workerAvailable('lathe') }, () => {
  const tmp = tempDir('lathe-multi-');
  const dbFile = join(tmp.path, 'shared.sqlite');
  const marker = join(tmp.path, 'marker');
  const dirs = { a: join(tmp.path, 'a'), b: join(tmp.path, 'b'), c: join(tmp.path, 'c') };
  const pids = new Set<number>();
  const workers: TestWorker[] = [];
  const sse = new AbortController();
  let specs: Record<'a' | 'b' | 'c', MasterSpec>;
  let db: TestData | undefined;

  before(async () => {
    specs = {
      a: { workerPort: await freePort(), wwwPort: null, roles: ['builds', 'schedulers'] },
      b: { workerPort: await freePort(), wwwPort: await freePort(), roles: ['builds', 'schedulers', 'web'] },
      c: { workerPort: await freePort(), wwwPort: await freePort(), roles: ['web'] },
    };
    const dbUrl = await testDatabaseUrl(dbFile);
    for (const k of ['a', 'b', 'c'] as const) {
      const created = await lathe(['create-master', dirs[k]]);
      assert.equal(created.code, 0, created.stderr);
      writeFileSync(join(dirs[k], 'master.config.ts'), configText(dbUrl, marker, specs[k]));
    }
  });

  after(async () => {
    sse.abort();
    for (const w of workers) await w.kill();
    for (const k of ['a', 'b', 'c'] as const) {
      const pidFile = join(dirs[k], 'lathe.pid');
      if (existsSync(pidFile)) pids.add(Number(readFileSync(pidFile, 'utf8')));
    }
    for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
    await db?.close();
    tmp.cleanup();
  });

  async function start(k: 'a' | 'b' | 'c'): Promise<number> {
    const r = await lathe(['start', dirs[k]], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const pid = Number(readFileSync(join(dirs[k], 'lathe.pid'), 'utf8'));
    pids.add(pid);
    return pid;
  }

  async function status(k: 'a' | 'b' | 'c'): Promise<MasterStatus> {
    const r = await lathe(['status', dirs[k], '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as MasterStatus;
  }

  async function connected(worker: string, masterid: number): Promise<boolean> {
    const row = await db!.db.kysely
      .selectFrom('connected_workers')
      .innerJoin('workers', 'workers.id', 'connected_workers.workerid')
      .select('connected_workers.masterid')
      .where('workers.name', '=', worker)
      .where('connected_workers.masterid', '=', masterid)
      .executeTakeFirst();
    return row !== undefined;
  }

  async function ownerOf(lease: string): Promise<number | undefined> {
    const rows = await db!.data.leases.list();
    const now = Math.floor(Date.now() / 1000);
    return rows.find((l) => l.name === lease && l.expiresAt >= now)?.masterid;
  }

  async function sendchange(k: 'a' | 'b', revision: string): Promise<number> {
    const r = await lathe([
      'sendchange',
      '--master',
      `127.0.0.1:${specs[k].workerPort}`,
      '--who',
      'alice',
      '--branch',
      'main',
      '--revision',
      revision,
    ]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const row = await db!.db.kysely
      .selectFrom('changes')
      .select('id')
      .where('revision', '=', revision)
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async function buildsetsOf(changeid: number): Promise<number> {
    const rows = await db!.db.kysely
      .selectFrom('changes')
      .innerJoin('buildset_sourcestamps', 'buildset_sourcestamps.sourcestampid', 'changes.sourcestampid')
      .select('buildset_sourcestamps.buildsetid')
      .where('changes.id', '=', changeid)
      .execute();
    return rows.length;
  }

  it('runs, hands over and recovers work across masters', async () => {
    const pidA = await start('a');
    db = await openData(dbFile);
    const data = db.data;
    await start('b');
    const pidC = await start('c');
    const [a, b, c] = [await status('a'), await status('b'), await status('c')];
    // Comes back quickly when A is started again.
    const w1 = createWorker('lathe', join(tmp.path, 'w1'), 'w1', 'pw-1', specs.a.workerPort, { maxDelay: 2 });
    workers.push(w1);
    w1.start();
    await waitFor(() => connected('w1', a.masterid), 60_000, 'w1 on A');

    // A started first and holds the scheduler; `lathe status` on any master says so.
    assert.equal(await ownerOf('scheduler:on-main'), a.masterid);
    const listed = b.masters?.find((m) => m.masterid === a.masterid);
    assert.deepEqual(listed?.owns, ['scheduler:on-main']);
    assert.ok(listed.active);
    assert.deepEqual(c.roles, ['web']);
    const statusText = await lathe(['status', dirs.c]);
    assert.match(statusText.stdout, /owns scheduler:on-main/);

    // The web-only master opened no worker port: it is free.
    const probe = createServer().listen(specs.c.workerPort, '127.0.0.1');
    await once(probe, 'listening');
    probe.close();

    // A change sent to B reaches A's scheduler through the outbox: exactly one buildset.
    const first = await sendchange('b', 'rev-1');
    await waitFor(async () => (await buildsetsOf(first)) > 0, 30_000, 'the buildset of rev-1');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await buildsetsOf(first), 1, 'one buildset per change, not one per master');

    // A Data API subscriber on B sees the build that runs on A. Another one, on C, notes its
    // position and goes away before it.
    const events: SseEvent[] = [];
    const newBuilds = 'api/v2/sse?topic=builds.*.new';
    const gone = new AbortController();
    const positionOnC = await follow(`http://127.0.0.1:${specs.c.wwwPort}/${newBuilds}`, [], gone.signal);
    gone.abort();
    await follow(`http://127.0.0.1:${specs.b.wwwPort}/${newBuilds}`, events, sse.signal);
    const buildOf = (e: SseEvent) => (e.data.resource as { buildid?: number } | undefined)?.buildid;
    const forced = await lathe(['force', 'long', '--dir', dirs.a, '--no-wait']);
    assert.equal(forced.code, 0, forced.stderr);
    const brid = Number(/build request (\d+)/.exec(forced.stdout)?.[1]);
    assert.ok(brid > 0, forced.stdout);
    await waitFor(() => existsSync(marker), 60_000, 'the long build to start on A');
    const [running] = await data.builds.forRequest(brid);
    assert.equal(running?.masterid, a.masterid);
    await waitFor(
      () => events.some((e) => buildOf(e) === running!.id),
      10_000,
      "B's subscriber to see the build on A",
    );

    const seenOnB = events.find((e) => buildOf(e) === running!.id);

    // The subscriber that left C resumes from its position on B: it gets the build on A,
    // at the same position (one sequence for every master).
    const resumed = async (port: number): Promise<SseEvent[]> => {
      const got: SseEvent[] = [];
      const stop = new AbortController();
      const url = `http://127.0.0.1:${port}/${newBuilds}`;
      await follow(url, got, stop.signal, { 'last-event-id': positionOnC });
      await waitFor(
        () => got.some((e) => e.event === 'resync' || buildOf(e) === running!.id),
        10_000,
        `the missed events from ${url}`,
      ).finally(() => stop.abort());
      return got;
    };
    const missed = (got: SseEvent[]) =>
      got.filter((e) => e.event === 'resync' || buildOf(e) === running!.id).map((e) => [e.event, e.id]);
    const resumedOnB = await resumed(specs.b.wwwPort!);
    assert.deepEqual(
      missed(resumedOnB),
      [['new', seenOnB?.id]],
      `B replays what it holds: ${JSON.stringify(resumedOnB)}`,
    );

    // Restarting the web-only master touches no build.
    const stopC = await lathe(['stop', dirs.c], { timeoutMs: 60_000 });
    assert.equal(stopC.code, 0, stopC.stderr);
    assert.ok(!alive(pidC));
    await start('c');
    // C, restarted, holds nothing in memory: the same subscriber resuming there is served from the outbox.
    const resumedOnC = await resumed(specs.c.wwwPort!);
    assert.deepEqual(
      missed(resumedOnC),
      [['new', seenOnB?.id]],
      `C replays from the outbox: ${JSON.stringify(resumedOnC)}`,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const still = await data.builds.get(running!.id);
    assert.equal(still?.completeAt, null, 'the build on A still runs');
    assert.equal((await data.buildrequests.get(brid))?.claimedByMaster, a.masterid);

    // What the build printed has reached the database (a worker sends output in batches; a
    // line still on its way when A dies is not one the master had, so it cannot be kept).
    let lastStored: unknown = null;
    const storedLines = async (buildid: number): Promise<string[]> => {
      const steps = await data.steps.forBuild(buildid);
      const [log] = steps[0] ? await data.logs.forStep(steps[0].id) : [];
      // All of it: the header lists the worker's environment, longer on some machines than others.
      const lines = log ? await data.logs.lines(log.id, 0, 100_000) : [];
      lastStored = {
        steps: steps.map((x) => [x.name, x.results]),
        log: log?.name,
        lines: lines.slice(-5),
        count: lines.length,
      };
      return lines;
    };
    await waitFor(
      async () => (await storedLines(running!.id)).includes('ofirst run'),
      30_000,
      'the first run’s output',
    ).catch((err: Error) => {
      const logA = readFileSync(join(dirs.a, 'lathe.log'), 'utf8').split('\n').slice(-40).join('\n');
      throw new Error(`${err.message}\nstored: ${JSON.stringify(lastStored)}\nA's log:\n${logA}`);
    });

    // B gets a worker now, then A dies mid-build.
    const w2 = createWorker('lathe', join(tmp.path, 'w2'), 'w2', 'pw-2', specs.b.workerPort);
    workers.push(w2);
    w2.start();
    await waitFor(() => connected('w2', b.masterid), 60_000, 'w2 on B');
    const killedAt = Date.now();
    process.kill(pidA, 'SIGKILL');
    await waitFor(() => !alive(pidA), 10_000, 'A to die');

    // Its scheduler moves to B (C runs no schedulers) within the lease and a heartbeat.
    await waitFor(
      async () => (await ownerOf('scheduler:on-main')) === b.masterid,
      30_000,
      'B to take the scheduler',
    );
    const failover = Date.now() - killedAt;
    assert.ok(failover < (LEASE_SECONDS + 5) * 1000, `failover took ${failover} ms`);

    // Its request reruns on B and succeeds; the interrupted build stays recorded.
    await waitFor(async () => (await data.buildrequests.get(brid))?.complete === true, 60_000, 'the rerun');
    assert.equal((await data.buildrequests.get(brid))?.results, SUCCESS);
    const builds = await data.builds.forRequest(brid);
    assert.deepEqual(
      builds.map((x) => [x.results, x.masterid]),
      [
        [RETRY, a.masterid],
        [SUCCESS, b.masterid],
      ],
    );
    assert.match(builds[0]!.stateString, /interrupted/);
    // Nothing A had stored of the interrupted build is lost.
    const lines = await storedLines(builds[0]!.id);
    assert.ok(lines.includes('ofirst run'), lines.join('\n'));

    // A change after the failover is scheduled by B, once.
    const second = await sendchange('b', 'rev-2');
    await waitFor(async () => (await buildsetsOf(second)) > 0, 30_000, 'the buildset of rev-2');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await buildsetsOf(second), 1);
    const buildsets = await db.db.kysely.selectFrom('buildsets').select('id').execute();
    assert.equal(buildsets.length, 3, 'rev-1, the forced build, rev-2: no duplicate');

    // A is back (same name, same id): A and B both have an idle worker and race for every
    // request of ten changes; each request is built exactly once.
    await start('a');
    await waitFor(() => connected('w1', a.masterid), 60_000, 'w1 back on A');
    assert.equal(await ownerOf('scheduler:on-main'), b.masterid, 'B keeps what it holds');
    const raced: number[] = [];
    for (let i = 0; i < 10; i++) raced.push(await sendchange('b', `race-${i}`));
    const requestsOf = async (changeid: number) =>
      db!.db.kysely
        .selectFrom('changes')
        .innerJoin('buildset_sourcestamps as bss', 'bss.sourcestampid', 'changes.sourcestampid')
        .innerJoin('buildrequests', 'buildrequests.buildsetid', 'bss.buildsetid')
        .select(['buildrequests.id', 'buildrequests.complete', 'buildrequests.results'])
        .where('changes.id', '=', changeid)
        .execute();
    await waitFor(
      async () => {
        for (const c of raced) {
          const rows = await requestsOf(c);
          if (rows.length === 0 || rows.some((r) => r.complete !== 1)) return false;
        }
        return true;
      },
      120_000,
      'the raced requests to complete',
    );
    const ranOn = new Map<number, number>();
    for (const c of raced) {
      const rows = await requestsOf(c);
      assert.equal(rows.length, 1, 'one buildset, one request per change');
      assert.equal(rows[0]!.results, SUCCESS);
      const runs = await data.builds.forRequest(rows[0]!.id);
      assert.equal(runs.length, 1, `request ${rows[0]!.id} built once, not once per master`);
      ranOn.set(runs[0]!.masterid, (ranOn.get(runs[0]!.masterid) ?? 0) + 1);
    }
    assert.ok(
      [...ranOn.keys()].every((m) => m === a.masterid || m === b.masterid),
      'never on the web-only C',
    );

    // `lathe stop` hands the scheduler over at once, not when its lease would run out.
    const stopB = await lathe(['stop', dirs.b], { timeoutMs: 60_000 });
    assert.equal(stopB.code, 0, stopB.stderr);
    const stoppedAt = Date.now();
    await waitFor(async () => (await ownerOf('scheduler:on-main')) === a.masterid, 30_000, 'A to take over');
    const handover = Date.now() - stoppedAt;
    assert.ok(handover < LEASE_SECONDS * 1000, `handover took ${handover} ms, as long as the lease`);
  });
});
