// The commit status reporters against a real HTTP server on loopback standing in for each
// forge's API: the exact endpoint, auth header and body of GitHub, GitLab, Gitea/Forgejo and
// Bitbucket Cloud, pending/running on a build's start and the result on its end, the
// repository read from https and ssh URLs, and tokens kept out of every error.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { secret } from '../src/properties/interpolate.js';
import { BitbucketStatusReporter } from '../src/reporters/commit-status/bitbucket.js';
import { repositoryPath } from '../src/reporters/commit-status/common.js';
import { GiteaStatusReporter } from '../src/reporters/commit-status/gitea.js';
import { GitHubStatusReporter } from '../src/reporters/commit-status/github.js';
import { GitLabStatusReporter } from '../src/reporters/commit-status/gitlab.js';
import { PermanentHttpError, RetryableDeliveryError } from '../src/reporters/http/errors.js';
import { PermanentDeliveryError, type Report } from '../src/reporters/report.js';
import { SecretOptionError } from '../src/reporters/secret-option.js';
import { CANCELLED, EXCEPTION, SUCCESS, WARNINGS } from '../src/results.js';
import { HttpReceiver } from './http-receiver.js';
import { buildReport, deliveryContext, rejection } from './report-fixtures.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const BUILD_URL = 'http://lathe.example.org/#/builders/3/builds/12';
const TOKEN = 'ghp_T0ken/Value+42=';

function started(build: Parameters<typeof buildReport>[0] = {}): Report {
  const report = buildReport(build);
  return {
    ...report,
    kind: 'build-started',
    build: { ...report.build, results: null, stateString: 'building' },
  };
}

describe('repositoryPath', () => {
  it('reads owner/repo from https, ssh and scp-like URLs, and nothing from local paths', () => {
    assert.deepEqual(repositoryPath('https://github.com/octo/widgets.git'), ['octo', 'widgets']);
    assert.deepEqual(repositoryPath('https://user:pw@github.com/octo/widgets/'), ['octo', 'widgets']);
    assert.deepEqual(repositoryPath('git@github.com:octo/widgets.git'), ['octo', 'widgets']);
    assert.deepEqual(repositoryPath('ssh://git@git.example.org:2222/octo/widgets.git'), ['octo', 'widgets']);
    assert.deepEqual(repositoryPath('gitlab.example.org:group/sub/proj'), ['group', 'sub', 'proj']);
    assert.equal(repositoryPath('/srv/git/octo/widgets.git'), null);
    assert.equal(repositoryPath('file:///srv/git/octo/widgets.git'), null);
    assert.equal(repositoryPath('widgets'), null);
  });
});

describe('commit status reporters', () => {
  let receiver: HttpReceiver;
  before(async () => {
    receiver = await HttpReceiver.start();
  });
  after(() => receiver.close());
  beforeEach(() => receiver.reset());

  it('GitHub: pending on start, failure on end, at /repos/{owner}/{repo}/statuses/{sha}', async () => {
    const github = new GitHubStatusReporter({ token: TOKEN, baseUrl: receiver.url });
    await github.deliver(started(), deliveryContext());
    await github.deliver(buildReport(), deliveryContext());
    const [start, end] = receiver.requests;
    for (const req of [start!, end!]) {
      assert.equal(req.method, 'POST');
      assert.equal(req.url, `/repos/octo/widgets/statuses/${SHA}`);
      assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(req.headers.accept, 'application/vnd.github+json');
      assert.equal(req.headers['x-github-api-version'], '2022-11-28');
      assert.ok(req.headers['user-agent'], 'GitHub refuses requests without a User-Agent');
    }
    assert.deepEqual(JSON.parse(start!.body), {
      state: 'pending',
      target_url: BUILD_URL,
      description: 'Build #12 started',
      context: 'lathe/linux',
    });
    assert.deepEqual(JSON.parse(end!.body), {
      state: 'failure',
      target_url: BUILD_URL,
      description: 'Build #12: failed test',
      context: 'lathe/linux',
    });
  });

  it('GitHub Enterprise: the API root keeps its path; ssh repository URLs; results map to states', async () => {
    const github = new GitHubStatusReporter({
      token: TOKEN,
      baseUrl: `${receiver.url}/api/v3/`,
      context: 'ci/lathe',
    });
    const repository = 'git@ghe.example.org:team/tool.git';
    for (const results of [SUCCESS, WARNINGS, EXCEPTION, CANCELLED] as const)
      await github.deliver(buildReport({ build: { repository, results } }), deliveryContext());
    assert.deepEqual(
      receiver.requests.map((r) => r.url),
      Array(4).fill(`/api/v3/repos/team/tool/statuses/${SHA}`),
    );
    assert.deepEqual(
      receiver.requests.map((r) => JSON.parse(r.body).state),
      ['success', 'success', 'error', 'error'],
    );
    assert.equal(JSON.parse(receiver.requests[0]!.body).context, 'ci/lathe');
  });

  it('GitHub: an exhausted rate limit (403) is retried after its reset; other refusals are permanent', async () => {
    const reset = Math.floor(Date.now() / 1000) + 600;
    receiver.reply(
      {
        status: 403,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
        body: '{"message":"API rate limit exceeded"}',
      },
      { status: 403, body: '{"message":"Resource not accessible by integration"}' },
      { status: 422, body: '{"message":"No commit found for SHA"}' },
    );
    const github = new GitHubStatusReporter({ token: TOKEN, baseUrl: receiver.url });
    const limited = await rejection(github.deliver(buildReport(), deliveryContext()));
    assert.ok(limited instanceof RetryableDeliveryError);
    assert.ok(limited.retryAfterMs! > 590_000 && limited.retryAfterMs! <= 600_000, `${limited.retryAfterMs}`);
    for (const status of [403, 422]) {
      const e = await rejection(github.deliver(buildReport(), deliveryContext()));
      assert.ok(e instanceof PermanentHttpError && e instanceof PermanentDeliveryError);
      assert.equal(e.status, status);
    }
  });

  it('the token is in no error message, even when the forge echoes it', async () => {
    receiver.reply(
      { status: 401, body: `{"message":"Bad credentials: ${TOKEN}"}` },
      { status: 500, body: `token=${encodeURIComponent(TOKEN)} ${TOKEN}` },
    );
    for (const reporter of [
      new GitHubStatusReporter({ token: TOKEN, baseUrl: receiver.url }),
      new GitLabStatusReporter({ token: TOKEN, baseUrl: receiver.url }),
    ]) {
      const e = await rejection(reporter.deliver(buildReport(), deliveryContext()));
      assert.ok(!e.message.includes(TOKEN) && !e.message.includes(encodeURIComponent(TOKEN)), e.message);
      assert.ok(!JSON.stringify(e).includes(TOKEN));
      assert.match(e.message, /<secret>/);
    }
  });

  it('GitLab: running then failed at /api/v4/projects/<full path>/statuses/<sha>, PRIVATE-TOKEN', async () => {
    const gitlab = new GitLabStatusReporter({ token: TOKEN, baseUrl: receiver.url });
    const build = { repository: 'https://gitlab.example.org/group/sub/proj.git' };
    await gitlab.deliver(started({ build }), deliveryContext());
    await gitlab.deliver(buildReport({ build }), deliveryContext());
    const [start, end] = receiver.requests;
    for (const req of [start!, end!]) {
      assert.equal(req.url, `/api/v4/projects/group%2Fsub%2Fproj/statuses/${SHA}`);
      assert.equal(req.headers['private-token'], TOKEN);
      assert.equal(req.headers.authorization, undefined);
    }
    assert.deepEqual(JSON.parse(start!.body), {
      state: 'running',
      name: 'lathe/linux',
      target_url: BUILD_URL,
      description: 'Build #12 started',
      ref: 'main',
    });
    assert.equal(JSON.parse(end!.body).state, 'failed');
  });

  it('GitLab: a status it already has is delivered; other 400s are permanent', async () => {
    receiver.reply(
      { status: 400, body: '{"message":"Cannot transition status via :run from :running"}' },
      { status: 400, body: '{"message":{"state":["is invalid"]}}' },
    );
    const gitlab = new GitLabStatusReporter({ token: TOKEN, baseUrl: receiver.url });
    const context = deliveryContext();
    await gitlab.deliver(started(), context);
    assert.match(context.logged.join('\n'), /already running or later/);
    await assert.rejects(gitlab.deliver(started(), deliveryContext()), PermanentHttpError);
  });

  it('Gitea/Forgejo: /api/v1/repos/{owner}/{repo}/statuses/{sha} with "token" auth; warnings is warning', async () => {
    const gitea = new GiteaStatusReporter({ token: TOKEN, baseUrl: receiver.url });
    const build = { repository: 'ssh://git@codeberg.example:2222/forge/app.git' };
    await gitea.deliver(started({ build }), deliveryContext());
    await gitea.deliver(
      buildReport({ build: { ...build, results: WARNINGS, stateString: 'warnings' } }),
      deliveryContext(),
    );
    const [start, end] = receiver.requests;
    assert.equal(start!.url, `/api/v1/repos/forge/app/statuses/${SHA}`);
    assert.equal(start!.headers.authorization, `token ${TOKEN}`);
    assert.deepEqual(JSON.parse(start!.body), {
      state: 'pending',
      target_url: BUILD_URL,
      description: 'Build #12 started',
      context: 'lathe/linux',
    });
    assert.equal(JSON.parse(end!.body).state, 'warning');
  });

  it('Bitbucket Cloud: INPROGRESS then FAILED at /2.0/repositories/{ws}/{repo}/commit/{sha}/statuses/build', async () => {
    const bitbucket = new BitbucketStatusReporter({ token: TOKEN, baseUrl: receiver.url });
    const build = { repository: 'git@bitbucket.org:team-ws/widgets.git' };
    await bitbucket.deliver(started({ build }), deliveryContext());
    await bitbucket.deliver(buildReport({ build }), deliveryContext());
    const [start, end] = receiver.requests;
    assert.equal(start!.url, `/2.0/repositories/team-ws/widgets/commit/${SHA}/statuses/build`);
    assert.equal(start!.headers.authorization, `Bearer ${TOKEN}`);
    assert.deepEqual(JSON.parse(start!.body), {
      key: 'lathe/linux',
      state: 'INPROGRESS',
      name: 'lathe/linux',
      url: BUILD_URL,
      description: 'Build #12 started',
      refname: 'main',
    });
    assert.equal(JSON.parse(end!.body).state, 'FAILED');
  });

  it('Bitbucket: an app password goes as basic auth; a long context becomes a 40-character key', async () => {
    const context = `lathe/${'very-long-builder-name-'.repeat(3)}`;
    const bitbucket = new BitbucketStatusReporter({
      token: 'app-pass',
      username: 'ci-bot',
      baseUrl: receiver.url,
      repository: 'team-ws/widgets',
      context: () => context,
    });
    await bitbucket.deliver(buildReport({ build: { repository: null } }), deliveryContext());
    const req = receiver.only();
    assert.equal(req.headers.authorization, `Basic ${Buffer.from('ci-bot:app-pass').toString('base64')}`);
    const body = JSON.parse(req.body);
    assert.equal(body.key, createHash('sha1').update(context).digest('hex'));
    assert.equal(body.name, context);
  });

  it('the token may be secret("name"), looked up through the secrets handed over', async () => {
    const github = new GitHubStatusReporter({ token: secret('gh-token'), baseUrl: receiver.url });
    await assert.rejects(github.deliver(buildReport(), deliveryContext()), SecretOptionError);
    assert.equal(receiver.requests.length, 0);
    github.useSecrets(async (name) => {
      if (name !== 'gh-token') throw new Error(`unknown secret ${name}`);
      return TOKEN;
    });
    await github.deliver(buildReport(), deliveryContext());
    assert.equal(receiver.only().headers.authorization, `Bearer ${TOKEN}`);
  });

  it('skips reports that are not about a build, and builds without a revision, saying why', async () => {
    const github = new GitHubStatusReporter({ token: TOKEN, baseUrl: receiver.url });
    const context = deliveryContext();
    await github.deliver(
      {
        kind: 'worker-missing',
        key: 'k',
        at: 0,
        workerName: 'w',
        notify: [],
        lastSeen: null,
        missingSeconds: 60,
      },
      context,
    );
    await github.deliver(buildReport({ build: { revision: null } }), context);
    assert.equal(receiver.requests.length, 0);
    assert.match(context.logged[0]!, /worker-missing report is skipped/);
    assert.match(context.logged[1]!, /build #12 of linux has no revision/);
  });

  it('a repository it cannot read is a permanent error naming the repository option', async () => {
    const github = new GitHubStatusReporter({ token: TOKEN, baseUrl: receiver.url });
    const e = await rejection(
      github.deliver(buildReport({ build: { repository: '/srv/git/widgets.git' } }), deliveryContext()),
    );
    assert.ok(e instanceof PermanentDeliveryError);
    assert.match(e.message, /repository option/);
    assert.equal(receiver.requests.length, 0);
  });
});
