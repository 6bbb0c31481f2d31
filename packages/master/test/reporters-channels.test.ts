// The HTTP channels delivered by the framework, from a master's config: the push reporter's
// body is signed with a key from the config's secrets, a receiver's 429 with Retry-After is
// waited out and the same report (same idempotency key) sent again, and a commit status
// reaches the forge's API path with the token from the secrets.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Master } from '../src/master.js';
import { FAILURE } from '../src/results.js';
import { waitFor } from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';
import { HttpReceiver } from './http-receiver.js';
import { recordBuild } from './report-history.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

describe('HTTP reporters delivered from the config', () => {
  const dir = tempDir('lathe-reporters-channels-');
  let receiver: HttpReceiver;
  let master: Master;

  before(async () => {
    receiver = await HttpReceiver.start();
    const basedir = join(dir.path, 'master');
    mkdirSync(basedir);
    writeFileSync(
      join(basedir, 'master.config.ts'),
      `import { buildFactory, buildStatusGenerator, GitHubStatusReporter, HttpPushReporter, secret } from '${lathe}';
const secrets = { 'push-key': 'k3y-for-hmac', 'gh-token': 'ghp_sekrit' };
const step = { name: 'compile', async run() { return 0 as const; } };
export default {
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'app', workerNames: ['w1'], factory: buildFactory(step) }],
  secretsProviders: [{ name: 'inline', get: async (n: string) => secrets[n as keyof typeof secrets] }],
  reporters: [
    {
      reporter: new HttpPushReporter({ name: 'push', url: '${receiver.url}/hook', secret: secret('push-key') }),
      generators: [buildStatusGenerator({ mode: 'failing' })],
    },
    {
      reporter: new GitHubStatusReporter({
        name: 'github',
        baseUrl: '${receiver.url}/api/v3',
        token: secret('gh-token'),
        repository: 'acme/app',
      }),
      generators: [buildStatusGenerator({ mode: 'failing' })],
    },
  ],
};
`,
    );
    master = await startMaster({ basedir, name: 'reporters-channels', onError: () => {} });
  });

  after(async () => {
    await master?.stop();
    await receiver?.close();
    dir.cleanup();
  });

  it('signs, waits out a 429, re-sends with the same key, and posts the commit status', async () => {
    // Both reporters send at once; the 429 is the push's, whichever arrives first.
    receiver.reply({ status: 429, headers: { 'retry-after': '3' }, body: 'slow down', path: '/hook' });
    const sent = Date.now();
    await recordBuild(master.data, master.masterid, {
      builder: 'app',
      author: 'Ann <ann@example.org>',
      results: FAILURE,
    });
    const pushes = () => receiver.requests.filter((r) => r.url === '/hook');
    await waitFor(() => pushes().length === 2, 20_000, 'the push to be retried and accepted');
    await waitFor(
      () => receiver.requests.some((r) => r.url.startsWith('/api/v3/repos/acme/app/statuses/')),
      20_000,
      'the commit status',
    );
    const [first, second] = pushes();
    assert.equal(first!.headers['idempotency-key'], second!.headers['idempotency-key']);
    const expected = `sha256=${createHmac('sha256', 'k3y-for-hmac').update(second!.body).digest('hex')}`;
    assert.equal(second!.headers['x-lathe-signature-256'], expected);
    const body = JSON.parse(second!.body) as { report: { kind: string; build: { builderName: string } } };
    assert.equal(body.report.kind, 'build-finished');
    assert.equal(body.report.build.builderName, 'app');
    assert.ok(Date.now() - sent >= 3000, 'the receiver’s Retry-After was waited out');

    const status = receiver.requests.find((r) => r.url.startsWith('/api/v3/repos/acme/app/statuses/'))!;
    assert.equal(status.headers.authorization, 'Bearer ghp_sekrit');
    assert.equal((JSON.parse(status.body) as { state: string }).state, 'failure');
  });
});
