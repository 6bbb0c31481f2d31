// The HTTP push reporter against real HTTP(S) servers on loopback: the JSON body, the
// HMAC signature checked by the receiver, the idempotency key, mutual TLS (refused without a
// client certificate), and how every failure is classified for the delivery framework.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { secret } from '../src/properties/interpolate.js';
import { SecretManager, StaticSecretProvider } from '../src/properties/secrets.js';
import { PermanentHttpError, RetryableDeliveryError } from '../src/reporters/http/errors.js';
import { HttpPushReporter } from '../src/reporters/http-push.js';
import { PermanentDeliveryError, reportSummary } from '../src/reporters/report.js';
import { SecretOptionError } from '../src/reporters/secret-option.js';
import { tempDir } from './helpers.js';
import { HttpReceiver } from './http-receiver.js';
import { buildReport, deliveryContext, rejection } from './report-fixtures.js';

const KEY = 'hmac-key-9f8e7d';

function verifySignature(body: string, header: string | string[] | undefined, key = KEY): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', key).update(body).digest();
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('HTTP push', () => {
  let receiver: HttpReceiver;
  before(async () => {
    receiver = await HttpReceiver.start();
  });
  after(() => receiver.close());
  beforeEach(() => receiver.reset());

  function reporter(
    extra: Partial<ConstructorParameters<typeof HttpPushReporter>[0]> = {},
  ): HttpPushReporter {
    return new HttpPushReporter({ url: `${receiver.url}/hooks/lathe?x=1`, secret: KEY, ...extra });
  }

  it('POSTs the report as JSON, signed over the exact body, with its idempotency key', async () => {
    const report = buildReport();
    await reporter().deliver(report, deliveryContext());
    const req = receiver.only();
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/hooks/lathe?x=1');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers['idempotency-key'], 'build-finished:41');
    assert.equal(req.headers['x-lathe-event'], 'build-finished');
    assert.ok(
      verifySignature(req.body, req.headers['x-lathe-signature-256']),
      'the receiver verifies the HMAC',
    );
    assert.ok(!verifySignature(req.body, req.headers['x-lathe-signature-256'], 'another-key'));
    assert.deepEqual(JSON.parse(req.body), { summary: reportSummary(report), report });
  });

  it('looks a secret("name") key up through the secrets it is given, at each delivery', async () => {
    const values: Record<string, string> = { 'push-key': KEY };
    const push = reporter({ secret: secret('push-key') });
    await assert.rejects(push.deliver(buildReport(), deliveryContext()), SecretOptionError);
    push.useSecrets((name) => new SecretManager([new StaticSecretProvider(values)]).get(name));
    await push.deliver(buildReport(), deliveryContext());
    assert.ok(verifySignature(receiver.only().body, receiver.only().headers['x-lathe-signature-256']));
  });

  it('5xx and 408 are retryable; 503 and 429 carry the Retry-After delay (seconds or a date)', async () => {
    receiver.reply(
      { status: 503, headers: { 'retry-after': '120' }, body: 'down for maintenance' },
      { status: 500 },
      { status: 408 },
      { status: 429, headers: { 'retry-after': new Date(Date.now() + 90_000).toUTCString() } },
    );
    const push = reporter();
    const e503 = await rejection(push.deliver(buildReport(), deliveryContext()));
    assert.ok(e503 instanceof RetryableDeliveryError && !(e503 instanceof PermanentDeliveryError));
    assert.equal(e503.status, 503);
    assert.equal(e503.retryAfterMs, 120_000);
    assert.match(e503.message, /answered 503: down for maintenance/);
    const e500 = await rejection(push.deliver(buildReport(), deliveryContext()));
    assert.ok(e500 instanceof RetryableDeliveryError && e500.retryAfterMs === undefined);
    assert.ok(
      (await rejection(push.deliver(buildReport(), deliveryContext()))) instanceof RetryableDeliveryError,
    );
    const e429 = await rejection(push.deliver(buildReport(), deliveryContext()));
    assert.ok(e429 instanceof RetryableDeliveryError);
    assert.ok(e429.retryAfterMs! > 80_000 && e429.retryAfterMs! <= 90_000, `delay ${e429.retryAfterMs}`);
  });

  it('other 4xx and redirects are permanent, and a redirect is not followed', async () => {
    receiver.reply(
      { status: 404, body: '{"error":"no such hook"}' },
      { status: 302, headers: { location: `${receiver.url}/elsewhere` } },
    );
    const e404 = await rejection(reporter().deliver(buildReport(), deliveryContext()));
    assert.ok(e404 instanceof PermanentHttpError && e404 instanceof PermanentDeliveryError);
    assert.equal(e404.status, 404);
    assert.match(e404.message, /no such hook/);
    const e302 = await rejection(reporter().deliver(buildReport(), deliveryContext()));
    assert.ok(e302 instanceof PermanentDeliveryError);
    assert.match(e302.message, /redirect/);
    assert.equal(receiver.requests.length, 2);
  });

  it('never quotes the key, even when the receiver echoes it', async () => {
    receiver.reply(
      { status: 401, body: `bad signature for key ${KEY}` },
      { status: 502, body: `key=${KEY}` },
    );
    for (const expected of [PermanentDeliveryError, RetryableDeliveryError]) {
      const e = await rejection(reporter().deliver(buildReport(), deliveryContext()));
      assert.ok(e instanceof expected);
      assert.ok(!e.message.includes(KEY), e.message);
      assert.match(e.message, /<secret>/);
    }
  });

  it('a report JSON cannot carry is permanent, and nothing is sent', async () => {
    const report = buildReport({ build: { properties: { size: 10n } } });
    await assert.rejects(reporter().deliver(report, deliveryContext()), PermanentDeliveryError);
    assert.equal(receiver.requests.length, 0);
  });

  it('a receiver that does not answer in time is a retryable timeout', async () => {
    receiver.reply({ status: 200, hang: true });
    const e = await rejection(reporter({ timeoutMs: 300 }).deliver(buildReport(), deliveryContext()));
    assert.ok(e instanceof RetryableDeliveryError);
    assert.match(e.message, /no answer within 0\.3 s/);
  });

  it('stops at once when the delivery is aborted, with the abort reason', async () => {
    receiver.reply({ status: 200, hang: true });
    const controller = new AbortController();
    const delivery = reporter().deliver(buildReport(), deliveryContext(controller.signal));
    setTimeout(() => controller.abort(new Error('master stopping')), 100);
    await assert.rejects(delivery, /master stopping/);
  });

  it('a refused connection is retryable', async () => {
    const closed = await HttpReceiver.start();
    const url = closed.url;
    await closed.close();
    const e = await rejection(
      new HttpPushReporter({ url, secret: KEY }).deliver(buildReport(), deliveryContext()),
    );
    assert.ok(e instanceof RetryableDeliveryError);
    assert.match(e.message, /ECONNREFUSED/);
  });
});

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

describe('HTTP push over mutual TLS', { skip: !haveOpenssl && 'no openssl' }, () => {
  const dir = tempDir('lathe-push-tls-');
  let receiver: HttpReceiver;
  let pem: (name: string) => Buffer;

  before(async () => {
    // A private CA signing the receiver's certificate (for 127.0.0.1) and the master's client certificate.
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'];
    const leaf = ['-addext', 'basicConstraints=critical,CA:FALSE', '-CA', 'ca.pem', '-CAkey', 'ca.key'];
    const openssl = (args: string[]) =>
      execFileSync('openssl', ['req', '-x509', ...ec, ...args], { cwd: dir.path, stdio: 'ignore' });
    openssl(['-subj', '/CN=lathe-test-ca', '-keyout', 'ca.key', '-out', 'ca.pem']);
    openssl([
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      ...leaf,
      '-keyout',
      'server.key',
      '-out',
      'server.pem',
    ]);
    openssl(['-subj', '/CN=lathe-master', ...leaf, '-keyout', 'client.key', '-out', 'client.pem']);
    pem = (name) => readFileSync(join(dir.path, name));
    receiver = await HttpReceiver.start({
      key: pem('server.key'),
      cert: pem('server.pem'),
      ca: pem('ca.pem'),
      requestCert: true,
      rejectUnauthorized: true,
    });
  });
  after(async () => {
    await receiver.close();
    dir.cleanup();
  });
  beforeEach(() => receiver.reset());

  it('presents the client certificate and trusts the private CA', async () => {
    const push = new HttpPushReporter({
      url: `${receiver.url}/push`,
      secret: KEY,
      tls: { cert: pem('client.pem'), key: pem('client.key').toString('utf8'), ca: pem('ca.pem') },
    });
    await push.deliver(buildReport(), deliveryContext());
    const req = receiver.only();
    assert.ok(verifySignature(req.body, req.headers['x-lathe-signature-256']));
  });

  it('is refused by the receiver without a client certificate, and nothing is received', async () => {
    const push = new HttpPushReporter({
      url: `${receiver.url}/push`,
      secret: KEY,
      tls: { ca: pem('ca.pem') },
    });
    const e = await rejection(push.deliver(buildReport(), deliveryContext()));
    assert.ok(e instanceof RetryableDeliveryError, String(e));
    assert.equal(receiver.requests.length, 0);
  });

  it('refuses tls options with an http URL', async () => {
    const push = new HttpPushReporter({
      url: 'http://127.0.0.1:9/push',
      secret: KEY,
      tls: { ca: pem('ca.pem') },
    });
    await assert.rejects(push.deliver(buildReport(), deliveryContext()), PermanentDeliveryError);
  });
});
