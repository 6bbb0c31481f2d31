// Webhooks make builds: a master with a real Lathe worker serves /change_hook/<provider>
// for GitHub, GitLab, Gitea/Forgejo, Bitbucket Cloud and Server and the generic JSON hook.
// Each provider's payload (fixtures/webhooks), signed as the provider signs it, is stored
// as changes before the 2xx answer and built; a missing or wrong signature is 401, a wrong
// GitLab token 403, a malformed payload 400 — and none of those stores anything. Secrets
// never appear in the master's log.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ApiServer } from '../src/http/server.js';
import type { Master } from '../src/master.js';
import { SUCCESS } from '../src/results.js';
import { waitFor, workerAvailable } from './bbworker.js';
import { tempDir } from './helpers.js';
import {
  authHeader,
  changeHooksConfig,
  fixture,
  type HookPost,
  postHook,
  TEST_SECRETS,
} from './hook-requests.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';

const latheIndex = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

const configText = `import { anyBranchScheduler, buildFactory, defineConfig, interpolate, secret, shellCommand, StaticSecretProvider } from '${latheIndex}';
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [{ name: 'app', workerNames: ['w1'], factory: buildFactory(shellCommand({ command: interpolate('echo building %(prop:branch)s at %(prop:revision)s') })) }],
  schedulers: [anyBranchScheduler({ name: 'every-branch', builderNames: ['app'] })],
  ${changeHooksConfig(0)}
});
`;

interface Expected {
  readonly branch: string;
  readonly revision: string;
  readonly author: string;
  readonly repository: string;
  readonly project: string;
  readonly category: string | null;
  readonly files: readonly string[];
}

const cases: readonly (HookPost & { readonly expected: readonly Expected[] })[] = [
  {
    provider: 'github',
    event: { 'x-github-event': 'push' },
    body: fixture('github-push.json'),
    expected: [
      {
        branch: 'main',
        revision: '9e3c1b0e4f2d6a8b7c5d4e3f2a1b0c9d8e7f6a5b',
        author: 'Ann Example <ann@example.com>',
        repository: 'https://github.com/octo-org/widget',
        project: 'octo-org/widget',
        category: 'push',
        files: ['src/units.c', 'src/widget.c', 'Makefile'],
      },
      {
        branch: 'main',
        revision: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
        author: 'Ann Example <ann@example.com>',
        repository: 'https://github.com/octo-org/widget',
        project: 'octo-org/widget',
        category: 'push',
        files: ['tests/units_test.c', 'tests/old_test.c'],
      },
    ],
  },
  {
    provider: 'github',
    event: { 'x-github-event': 'pull_request' },
    body: fixture('github-pull_request.json'),
    expected: [
      {
        branch: 'refs/pull/42/merge',
        revision: '5c4e3d2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d',
        author: 'bob',
        repository: 'https://github.com/octo-org/widget',
        project: 'octo-org/widget',
        category: 'pull',
        files: [],
      },
    ],
  },
  {
    provider: 'gitlab',
    event: { 'x-gitlab-event': 'Push Hook' },
    body: fixture('gitlab-push.json'),
    expected: [
      {
        branch: 'main',
        revision: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        author: 'Carol Example <carol@example.com>',
        repository: 'https://gitlab.example.com/tools/gadget.git',
        project: 'tools/gadget',
        category: 'push',
        files: ['gadget.c'],
      },
    ],
  },
  {
    provider: 'gitlab',
    event: { 'x-gitlab-event': 'Merge Request Hook' },
    body: fixture('gitlab-merge_request.json'),
    expected: [
      {
        branch: 'main',
        revision: 'b83d6e391c22777fca1ed3012fce84f633d7fed0',
        author: 'Dan Example <dan@example.com>',
        repository: 'https://gitlab.example.com/tools/gadget.git',
        project: 'tools/gadget',
        category: 'merge_request',
        files: [],
      },
    ],
  },
  {
    provider: 'gitea',
    event: { 'x-gitea-event': 'push' },
    body: fixture('gitea-push.json'),
    expected: [
      {
        branch: 'develop',
        revision: 'bffeb74224043ba2feb48d137756c8a9331c449a',
        author: 'Eve Example <eve@example.com>',
        repository: 'https://gitea.example.com/eve/sprocket',
        project: 'eve/sprocket',
        category: 'push',
        files: ['sprocket.py'],
      },
    ],
  },
  {
    provider: 'gitea',
    event: { 'x-gitea-event': 'pull_request' },
    body: fixture('gitea-pull_request.json'),
    expected: [
      {
        branch: 'refs/pull/3/head',
        revision: 'e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4',
        author: 'frank',
        repository: 'https://gitea.example.com/eve/sprocket',
        project: 'eve/sprocket',
        category: 'pull',
        files: [],
      },
    ],
  },
  {
    provider: 'bitbucketcloud',
    event: { 'x-event-key': 'repo:push' },
    body: fixture('bitbucketcloud-push.json'),
    expected: [
      {
        branch: 'release-2',
        revision: '7d0c3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4',
        author: 'Grace Example <grace@example.com>',
        repository: 'https://bitbucket.org/acme/gizmo',
        project: 'acme/gizmo',
        category: 'push',
        files: [],
      },
    ],
  },
  {
    provider: 'bitbucketcloud',
    event: { 'x-event-key': 'pullrequest:created' },
    body: fixture('bitbucketcloud-pullrequest.json'),
    expected: [
      {
        branch: 'refs/pull-requests/12/merge',
        revision: 'c0ffee0123456789abcdef0123456789abcdef01',
        author: 'Heidi Example',
        repository: 'https://bitbucket.org/acme/gizmo',
        project: 'acme/gizmo',
        category: 'pull',
        files: [],
      },
    ],
  },
  {
    provider: 'bitbucketserver',
    event: { 'x-event-key': 'repo:refs_changed' },
    body: fixture('bitbucketserver-refs_changed.json'),
    expected: [
      {
        branch: 'main',
        revision: '178864a7d521b6f5e720b386b2c2b0ef8563e0dc',
        author: 'Ivan Example <ivan@example.com>',
        repository: 'https://bitbucket.example.com/projects/HW/repos/doohickey',
        project: 'HW/doohickey',
        category: 'push',
        files: [],
      },
    ],
  },
  {
    provider: 'generic',
    event: {},
    body: fixture('generic.json'),
    expected: [
      {
        branch: 'main',
        revision: '3f786850e387550fdab836ed7e6dc881de23001b',
        author: 'Judy Example <judy@example.com>',
        repository: 'https://git.example.com/judy/thingamajig.git',
        project: 'thingamajig',
        category: null,
        files: ['VERSION'],
      },
    ],
  },
];

describe('change hooks', { skip: !workerAvailable('lathe') }, () => {
  const dir = tempDir('lathe-hooks-');
  const logs: string[] = [];
  let env: MasterAndWorker | undefined;
  let http: ApiServer | undefined;
  let master: Master;
  let port: number;

  before(async () => {
    env = await startMasterAndWorker({
      kind: 'lathe',
      masterDir: join(dir.path, 'master'),
      workerDir: join(dir.path, 'worker'),
      configText,
      name: 'change-hooks',
      quiet: true,
      onError: (err) => logs.push(String(err)),
    });
    master = env.master;
    http = new ApiServer({ log: (line) => logs.push(line) });
    await http.start(master);
    port = http.port;
  });
  after(async () => {
    await http?.stop();
    await env?.stop();
    dir.cleanup();
  });

  const changeCount = async () => (await master.data.changes.recent(1_000_000)).length;

  async function finishedBuildOf(changeid: number): Promise<number> {
    let result: number | null = null;
    await waitFor(
      async () => {
        const ids = await master.data.changes.buildIds(changeid);
        const build = ids.length > 0 ? await master.data.builds.get(ids[0]!) : undefined;
        if (build?.completeAt) result = build.results;
        return result !== null;
      },
      30_000,
      `a finished build of change ${changeid}`,
    );
    return result!;
  }

  for (const c of cases) {
    const event = Object.values(c.event)[0] ?? 'change';
    it(`${c.provider} ${event}: signed payload → changes stored before the answer, then built`, async () => {
      const answer = await postHook(port, c);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const ids = answer.body.changes ?? [];
      assert.equal(ids.length, c.expected.length);
      const stored = [];
      for (const id of ids) {
        const change = await master.data.changes.get(id);
        assert.ok(change, `change ${id} is stored by the time the answer arrives`);
        stored.push({
          branch: change.branch,
          revision: change.revision,
          author: change.author,
          repository: change.repository,
          project: change.project,
          category: change.category,
          files: change.files,
        });
      }
      assert.deepEqual(stored, c.expected);
      for (const id of ids) assert.equal(await finishedBuildOf(id), SUCCESS);
    });
  }

  it('refuses missing and wrong signatures (401), a wrong GitLab token (403), malformed payloads (400); stores nothing', async () => {
    const before = await changeCount();
    for (const c of cases) {
      const what = `${c.provider} ${JSON.stringify(c.event)}`;
      const missing = await postHook(port, c, {});
      assert.equal(missing.status, 401, `${what} without signature`);
      const wrong = await postHook(port, c, authHeader(c.provider, 'not-the-secret', c.body));
      assert.equal(wrong.status, c.provider === 'gitlab' ? 403 : 401, `${what} with the wrong secret`);
      if (c.provider !== 'gitlab') {
        // Signed, then changed on the way: the signature no longer covers the body.
        const tampered = {
          ...c,
          body: Buffer.from(c.body.toString().replace(/main|develop|release-2/, 'evil')),
        };
        const altered = await postHook(
          port,
          tampered,
          authHeader(c.provider, TEST_SECRETS[c.provider], c.body),
        );
        assert.equal(altered.status, 401, `${what} with an altered body`);
      }
      const garbage = Buffer.from('{"ref": 42, "changes": "no"');
      const malformed = await postHook(port, { ...c, body: garbage });
      assert.equal(malformed.status, 400, `${what} malformed`);
      const wrongShape = Buffer.from(
        JSON.stringify({ ref: 42, changes: 'no', pullrequest: 1, object_attributes: 2, push: 3 }),
      );
      const badShape = await postHook(port, { ...c, body: wrongShape });
      assert.equal(badShape.status, 400, `${what} wrong shape: ${JSON.stringify(badShape.body)}`);
    }
    const bogus = Buffer.from('sha256=0000');
    assert.equal((await postHook(port, cases[0]!, { 'x-hub-signature-256': bogus.toString() })).status, 401);
    assert.equal(await changeCount(), before, 'nothing stored for refused requests');
    for (const secret of Object.values(TEST_SECRETS))
      assert.ok(!logs.some((l) => l.includes(secret)), 'no secret in the log');
    assert.ok(
      logs.some((l) => /change hook github: refused/.test(l)),
      'refusals are logged',
    );
  });

  it('acknowledges events that build nothing (GitHub ping, a deleted branch) without storing', async () => {
    const before = await changeCount();
    const ping = Buffer.from(JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 }));
    const pong = await postHook(port, {
      provider: 'github',
      event: { 'x-github-event': 'ping' },
      body: ping,
    });
    assert.deepEqual([pong.status, pong.body.changes], [200, []]);
    const push = JSON.parse(fixture('github-push.json').toString()) as Record<string, unknown>;
    const deleted = Buffer.from(
      JSON.stringify({ ...push, deleted: true, after: '0'.repeat(40), commits: [] }),
    );
    const gone = await postHook(port, {
      provider: 'github',
      event: { 'x-github-event': 'push' },
      body: deleted,
    });
    assert.deepEqual([gone.status, gone.body.changes], [200, []]);
    assert.equal(await changeCount(), before);
  });

  it('takes form-encoded GitHub deliveries (payload=…), signed over the form body', async () => {
    const form = Buffer.from(
      new URLSearchParams({ payload: fixture('github-push.json').toString() }).toString(),
    );
    const res = await fetch(`http://127.0.0.1:${port}/change_hook/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-github-event': 'push',
        ...authHeader('github', TEST_SECRETS.github, form),
      },
      body: new Uint8Array(form),
    });
    assert.equal(res.status, 200);
    const { changes } = (await res.json()) as { changes: number[] };
    const revisions = [];
    for (const id of changes) revisions.push((await master.data.changes.get(id))?.revision);
    assert.deepEqual(
      revisions,
      cases[0]!.expected.map((e) => e.revision),
    );
  });

  it('answers 404 for a provider that is not configured', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/change_hook/gitorious`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 404);
  });
});
