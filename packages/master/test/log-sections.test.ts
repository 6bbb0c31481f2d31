// Section markers of logs (`::group::`, `::endgroup::`, `--- `, `+++ `): recorded as a build's
// output is stored, through the real master path (a Lathe worker runs the command, the
// master's LogWriter appends its lines), and served by /logs/:logid/sections in one read;
// a log written before markers were recorded answers `recorded: false`, and a search whose
// reader left stops instead of reading the whole log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { searchLog } from '../src/api/log-search.js';
import type { Master } from '../src/master.js';
import { forceBuild, waitForRequest } from '../src/process/control.js';
import { workerAvailable } from './bbworker.js';
import { tempDir } from './helpers.js';
import { latheIndexUrl as lathe, startWwwMaster, type WwwMaster } from './www-browser.js';

// Enough output between the markers that they arrive in several appends, on both streams;
// lines that only contain a marker further in are no section.
const COMMAND = [
  'echo before',
  'echo "::group::Compile  "',
  'seq -f "compile %.0f" 1 20000',
  'echo "::endgroup::"',
  'echo "  --- indented, not a header"',
  'echo "--- Lint notes" >&2',
  'seq -f "lint %.0f" 1 3000 >&2',
  'echo "+++ Deploy"',
  'echo "deploying"',
  'echo "::group::Unclosed"',
  'seq -f "tail %.0f" 1 10',
].join('; ');

const configText = `import { buildFactory, defineConfig, shellCommand } from '${lathe}';
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [
    {
      name: 'sections',
      workerNames: ['w1'],
      factory: buildFactory(shellCommand({ name: 'grouped', command: ${JSON.stringify(COMMAND)} })),
    },
  ],
});
`;

describe('log section markers', { skip: !workerAvailable('lathe') && 'needs the built worker' }, () => {
  const dir = tempDir('lathe-log-sections-');
  let env: WwwMaster;
  let master: Master;
  let logid: number;
  const get = async (path: string) => {
    const res = await fetch(`${env.base}api/v2${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  before(async () => {
    env = await startWwwMaster(dir.path, configText, 'log-sections');
    master = env.master;
    const { buildrequestid } = await forceBuild(master, { builder: 'sections' });
    await waitForRequest(master, buildrequestid, 60_000);
    const [build] = await master.data.builds.forRequest(buildrequestid);
    const [step] = await master.data.steps.forBuild(build!.id);
    logid = (await master.data.logs.forStep(step!.id)).find((l) => l.name === 'stdio')!.id;
  });

  after(async () => {
    await env?.stop();
    dir.cleanup();
  });

  it('records the markers of a build’s output as it is stored, and serves them', async () => {
    const log = (await master.data.logs.get(logid))!;
    assert.ok(log.complete);
    const { recorded, markers, truncated } = await master.data.logs.sectionMarkers(logid, 100);
    assert.equal(recorded, true);
    assert.equal(truncated, false);
    // In line order; stdout and stderr are separate pipes, so where the stderr marker lands
    // among the stdout ones is up to the worker: compared by content, then placed.
    assert.deepEqual(
      markers.map((m) => m.line),
      markers.map((m) => m.line).sort((a, b) => a - b),
    );
    const stored = await master.data.logs.lines(logid, 0, log.numLines - 1);
    assert.deepEqual(markers.map((m) => [m.kind, m.title, stored[m.line]]).sort(), [
      ['endgroup', '', 'o::endgroup::'],
      ['folded', 'Lint notes', 'e--- Lint notes'],
      ['group', 'Compile', 'o::group::Compile  '],
      ['group', 'Unclosed', 'o::group::Unclosed'],
      ['unfolded', 'Deploy', 'o+++ Deploy'],
    ]);
    assert.deepEqual(
      markers.filter((m) => m.kind !== 'folded').map((m) => m.title),
      ['Compile', '', 'Deploy', 'Unclosed'],
    );
    // The same lines a search of the whole log finds (what the viewer did before).
    for (const [kind, pattern] of [
      ['group', '^[oe]?::group::'],
      ['endgroup', '^[oe]?::endgroup::'],
      ['folded', '^[oe]?--- '],
      ['unfolded', '^[oe]?\\+\\+\\+ '],
    ] as const) {
      const { body } = await get(`/logs/${logid}/search?regex=true&q=${encodeURIComponent(pattern)}`);
      assert.deepEqual(
        body.matches,
        markers.filter((m) => m.kind === kind).map((m) => m.line),
        kind,
      );
    }

    const answer = await get(`/logs/${logid}/sections`);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, {
      markers: markers.map((m) => ({ line: m.line, kind: m.kind, title: m.title })),
      meta: { recorded: true, truncated: false, total: log.numLines },
    });
    assert.equal((await get(`/logs/${logid}/sections?offset=3`)).status, 400);
    assert.equal((await get('/logs/999999/sections')).status, 404);
  });

  it('answers recorded: false for a log written before markers were recorded', async () => {
    // What migration 0017 leaves every existing log at.
    await master.data.db.kysely
      .updateTable('logs')
      .set({ sections_recorded: 0 })
      .where('id', '=', logid)
      .execute();
    const answer = await get(`/logs/${logid}/sections`);
    assert.deepEqual(answer.body, {
      markers: [],
      meta: { recorded: false, truncated: false, total: (await master.data.logs.get(logid))!.numLines },
    });
  });

  it('stops a search whose reader left', async () => {
    const gone = new AbortController();
    gone.abort();
    const result = await searchLog(master.data.logs, logid, {
      query: 'compile',
      regex: false,
      limit: 100_000,
      signal: gone.signal,
    });
    assert.deepEqual(result, { lines: [], truncated: true });
  });
});
