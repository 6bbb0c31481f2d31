// The chat reporters against real HTTP servers on loopback, each checked in its provider's
// request format: Slack's incoming webhook JSON (text + blocks), Discord's webhook (content
// + embeds, mentions off), Matrix's client-server send (PUT, bearer token, the report key as
// transaction id), Zulip's form-encoded message with basic auth. Every message names the
// build, its result, branch and revision, the blamelist's authors and links to the build.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { secret } from '../src/properties/interpolate.js';
import { DiscordReporter } from '../src/reporters/chat/discord.js';
import { MatrixReporter } from '../src/reporters/chat/matrix.js';
import { SlackReporter } from '../src/reporters/chat/slack.js';
import { ZulipReporter } from '../src/reporters/chat/zulip.js';
import { PermanentHttpError, RetryableDeliveryError } from '../src/reporters/http/errors.js';
import type { Report } from '../src/reporters/report.js';
import { SUCCESS } from '../src/results.js';
import { HttpReceiver } from './http-receiver.js';
import { buildReport, deliveryContext, rejection, reportBuild } from './report-fixtures.js';

const BUILD_URL = 'http://lathe.example.org/#/builders/3/builds/12';

/** What every message must say about the fixture's failed build. */
function assertNamesTheBuild(text: string): void {
  for (const part of [
    'Build #12 of linux failed',
    'main',
    '0123456789ab',
    'Ada Lovelace',
    'Grace Hopper',
    BUILD_URL,
  ])
    assert.ok(text.includes(part), `${JSON.stringify(part)} missing from ${text}`);
  assert.ok(!text.includes('ada@example.org'), 'authors are named without their mail address');
}

describe('chat reporters', () => {
  let receiver: HttpReceiver;
  before(async () => {
    receiver = await HttpReceiver.start();
  });
  after(() => receiver.close());
  beforeEach(() => receiver.reset());

  it('Slack: incoming webhook JSON with text and mrkdwn blocks, characters escaped', async () => {
    const slack = new SlackReporter({
      webhookUrl: `${receiver.url}/services/T0/B0/XyZsecret`,
      username: 'lathe',
    });
    await slack.deliver(
      buildReport({
        blamelist: [
          { ...buildReport().blamelist[0]!, author: 'Bob <tables> & co' },
          buildReport().blamelist[1]!,
        ],
      }),
      deliveryContext(),
    );
    const req = receiver.only();
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/services/T0/B0/XyZsecret');
    assert.equal(req.headers['content-type'], 'application/json');
    const body = JSON.parse(req.body);
    assert.equal(body.text, `<${BUILD_URL}|Build #12 of linux failed on main (0123456789ab)>`);
    assert.equal(body.username, 'lathe');
    assert.deepEqual(body.blocks[0], { type: 'section', text: { type: 'mrkdwn', text: `*${body.text}*` } });
    assert.equal(body.blocks[1].type, 'section');
    const fields = body.blocks[1].fields.map((f: { type: string; text: string }) => {
      assert.equal(f.type, 'mrkdwn');
      return f.text;
    });
    assert.deepEqual(fields, [
      '*Result*\nfailure',
      '*Branch*\nmain',
      '*Revision*\n0123456789ab',
      '*Blamelist*\nBob &lt;tables&gt; &amp; co, Grace Hopper',
      '*Failed steps*\ntest',
    ]);
  });

  it('Slack: all of the message is there for the default report', async () => {
    await new SlackReporter({ webhookUrl: `${receiver.url}/s` }).deliver(buildReport(), deliveryContext());
    assertNamesTheBuild(receiver.only().body);
  });

  it('Discord: content and one embed with link, colour, fields; mentions disabled; wait=true', async () => {
    const discord = new DiscordReporter({ webhookUrl: `${receiver.url}/api/webhooks/123/tok3n` });
    await discord.deliver(buildReport(), deliveryContext());
    const req = receiver.only();
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/api/webhooks/123/tok3n?wait=true');
    const body = JSON.parse(req.body);
    assert.equal(body.content, 'Build #12 of linux failed on main (0123456789ab)');
    assert.deepEqual(body.allowed_mentions, { parse: [] });
    assert.equal(body.embeds.length, 1);
    const [embed] = body.embeds;
    assert.equal(embed.title, body.content);
    assert.equal(embed.url, BUILD_URL);
    assert.equal(embed.color, 0xe74c3c);
    assert.equal(embed.timestamp, new Date(1_800_000_100_000).toISOString());
    assert.deepEqual(embed.fields[0], { name: 'Result', value: 'failure', inline: true });
    assert.deepEqual(
      embed.fields.find((f: { name: string }) => f.name === 'Blamelist'),
      { name: 'Blamelist', value: 'Ada Lovelace, Grace Hopper', inline: true },
    );
    assertNamesTheBuild(req.body);
  });

  it('Discord: a passing build is green', async () => {
    const report = buildReport({ build: { results: SUCCESS }, failedSteps: [] });
    await new DiscordReporter({ webhookUrl: `${receiver.url}/w` }).deliver(report, deliveryContext());
    assert.equal(JSON.parse(receiver.only().body).embeds[0].color, 0x2ecc71);
  });

  it('Matrix: PUT send/m.room.message/<report key> with the access token, plain and HTML bodies', async () => {
    const matrix = new MatrixReporter({
      homeserverUrl: `${receiver.url}/`,
      roomId: '!ops:example.org',
      accessToken: 'syt_matrix_token',
    });
    const report = buildReport({ key: 'build-finished:41/a b' });
    await matrix.deliver(report, deliveryContext());
    await matrix.deliver(report, deliveryContext());
    const [first, retry] = receiver.requests;
    assert.equal(first!.method, 'PUT');
    assert.equal(
      first!.url,
      '/_matrix/client/v3/rooms/!ops%3Aexample.org/send/m.room.message/build-finished%3A41%2Fa%20b',
    );
    assert.equal(retry!.url, first!.url, 'a redelivery is the same transaction');
    assert.equal(first!.headers.authorization, 'Bearer syt_matrix_token');
    const event = JSON.parse(first!.body);
    assert.equal(event.msgtype, 'm.notice');
    assert.equal(event.format, 'org.matrix.custom.html');
    assert.match(event.body, /^Build #12 of linux failed on main \(0123456789ab\) — http:\/\/lathe/);
    assert.match(
      event.formatted_body,
      /^<strong><a href="http:\/\/lathe\.example\.org\/#\/builders\/3\/builds\/12">Build #12 of linux failed/,
    );
    assert.ok(event.formatted_body.includes('<br><b>Blamelist</b>: Ada Lovelace, Grace Hopper'));
    assertNamesTheBuild(event.body);
    assertNamesTheBuild(event.formatted_body);
  });

  it('Matrix: M_LIMIT_EXCEEDED carries retry_after_ms; an unknown token is permanent and not quoted', async () => {
    receiver.reply(
      { status: 429, body: JSON.stringify({ errcode: 'M_LIMIT_EXCEEDED', retry_after_ms: 2500 }) },
      {
        status: 401,
        body: JSON.stringify({ errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid token syt_matrix_token' }),
      },
    );
    const matrix = new MatrixReporter({
      homeserverUrl: receiver.url,
      roomId: '!r:x',
      accessToken: 'syt_matrix_token',
    });
    const limited = await rejection(matrix.deliver(buildReport(), deliveryContext()));
    assert.ok(limited instanceof RetryableDeliveryError);
    assert.equal(limited.retryAfterMs, 2500);
    const refused = await rejection(matrix.deliver(buildReport(), deliveryContext()));
    assert.ok(refused instanceof PermanentHttpError);
    assert.match(refused.message, /M_UNKNOWN_TOKEN/);
    assert.ok(!refused.message.includes('syt_matrix_token'), refused.message);
  });

  it('Zulip: form-encoded stream message with basic auth, topic = builder', async () => {
    const values: Record<string, string> = { 'zulip-key': 'zK3y' };
    const zulip = new ZulipReporter({
      siteUrl: receiver.url,
      email: 'lathe-bot@example.zulipchat.com',
      apiKey: secret('zulip-key'),
      stream: 'builds',
      secrets: async (name) => values[name]!,
    });
    await zulip.deliver(buildReport(), deliveryContext());
    const req = receiver.only();
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/api/v1/messages');
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(
      req.headers.authorization,
      `Basic ${Buffer.from('lathe-bot@example.zulipchat.com:zK3y').toString('base64')}`,
    );
    const form = Object.fromEntries(new URLSearchParams(req.body));
    assert.deepEqual(Object.keys(form).sort(), ['content', 'to', 'topic', 'type']);
    assert.equal(form.type, 'stream');
    assert.equal(form.to, 'builds');
    assert.equal(form.topic, 'linux');
    assert.match(
      form.content!,
      /^\*\*\[Build #12 of linux failed on main \(0123456789ab\)\]\(http:\/\/lathe/,
    );
    assert.ok(form.content!.includes('* **Blamelist**: Ada Lovelace, Grace Hopper'));
    assertNamesTheBuild(form.content!);
  });

  it('a worker-missing report and a buildset report are messages too', async () => {
    const missing: Report = {
      kind: 'worker-missing',
      key: 'worker-missing:w1:1',
      at: 1_800_000_000,
      workerName: 'w1',
      notify: [],
      lastSeen: 1_799_996_400,
      missingSeconds: 3600,
    };
    const buildset: Report = {
      kind: 'buildset-finished',
      key: 'buildset:5',
      at: 1_800_000_000,
      buildsetid: 5,
      results: SUCCESS,
      reason: null,
      builds: [
        reportBuild({ results: SUCCESS }),
        reportBuild({ builderName: 'mac', number: 3, results: SUCCESS }),
      ],
      blamelist: [],
    };
    const slack = new SlackReporter({ webhookUrl: `${receiver.url}/s` });
    await slack.deliver(missing, deliveryContext());
    await slack.deliver(buildset, deliveryContext());
    const [m, b] = receiver.requests.map((r) => JSON.parse(r.body));
    assert.equal(m.text, 'Worker w1 has been missing for 60 minutes');
    assert.equal(b.text, `<${BUILD_URL}|Buildset 5 passed (2 builds)>`);
    assert.ok(
      b.blocks[1].fields.some(
        (f: { text: string }) => f.text === '*Builds*\nlinux #12: success\nmac #3: success',
      ),
    );
  });

  it('a webhook URL is a credential: errors name only its host', async () => {
    receiver.reply({ status: 404, body: 'no_service for /services/T0/B0/XyZsecret' });
    const e = await rejection(
      new SlackReporter({ webhookUrl: `${receiver.url}/services/T0/B0/XyZsecret` }).deliver(
        buildReport(),
        deliveryContext(),
      ),
    );
    assert.ok(e instanceof PermanentHttpError);
    assert.ok(!e.message.includes('XyZsecret'), e.message);
    assert.match(e.message, /Slack webhook at http:\/\/127\.0\.0\.1:\d+ answered 404/);
    const bad = await rejection(
      new DiscordReporter({ webhookUrl: 'not a url XyZsecret' }).deliver(buildReport(), deliveryContext()),
    );
    assert.ok(!bad.message.includes('XyZsecret'), bad.message);
  });
});
