// The mail reporter against a real SMTP server (npm smtp-server, STARTTLS and AUTH): who
// gets a failed build's mail (fixed addresses, the blamelist's authors), what it says (the
// result, the suspect changes, the failing step's log tail, the build's link), and that a
// receiver that is down while builds go on gets every report, in order, once it is back.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatStatus } from '../src/cli/commands/status.js';
import type { Master } from '../src/master.js';
import { FAILURE, SUCCESS } from '../src/results.js';
import { waitFor } from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';
import { recordBuild } from './report-history.js';
import {
  type Certificate,
  haveOpenssl,
  mailConfigText,
  makeCertificate,
  SMTP_PASSWORD,
  SmtpReceiver,
} from './smtp-receiver.js';

describe('the mail reporter', { skip: !haveOpenssl && 'no openssl', timeout: 120_000 }, () => {
  const dir = tempDir('lathe-mail-');
  let certificate: Certificate;
  let receiver: SmtpReceiver;
  let master: Master;
  const problems: string[] = [];
  before(async () => {
    certificate = makeCertificate(dir.path);
    writeFileSync(join(dir.path, 'ca.pem'), certificate.cert);
    receiver = new SmtpReceiver(certificate, 'lathe', SMTP_PASSWORD);
    await receiver.open(0);
    writeFileSync(
      join(dir.path, 'master.config.ts'),
      mailConfigText(receiver.port, join(dir.path, 'ca.pem')),
    );
    master = await startMaster({
      basedir: dir.path,
      name: 'mail-test',
      onError: (err, context) => problems.push(`${context}: ${(err as Error).message}`),
    });
  });
  after(async () => {
    await master?.stop();
    await receiver?.close();
    dir.cleanup();
  });

  it('mails a failed build to the fixed addresses and the blamelist, with the suspects and the log tail', async () => {
    await recordBuild(master.data, master.masterid, {
      builder: 'app',
      author: 'Alice <alice@example.com>',
      results: SUCCESS,
    });
    await recordBuild(master.data, master.masterid, {
      builder: 'other',
      author: 'Eve <eve@example.com>',
      results: FAILURE,
    });
    const failed = await recordBuild(master.data, master.masterid, {
      builder: 'app',
      author: 'Bob Roe <bob@example.com>',
      results: FAILURE,
      output: ['cc -c src/app.c', "src/app.c:3: error: 'x' undeclared"],
    });
    await waitFor(() => receiver.buildMails.length >= 1, 20_000, 'the mail');
    const mail = receiver.buildMails[0]!;
    assert.deepEqual([...mail.to].sort(), ['bob@example.com', 'team@example.org']);
    assert.equal(mail.from, 'lathe@ci.example.org');
    assert.match(mail.subject, new RegExp(`Build #${failed.number} of app failed on main`));
    assert.match(
      mail.text,
      /Changes since the last passing build \(1\):\n {2}rev\w+ Bob Roe <bob@example.com>: change by Bob Roe/,
    );
    assert.match(mail.text, /Step compile: failure/);
    assert.match(mail.text, /\| src\/app.c:3: error: 'x' undeclared\n {2}\| done\n/);
    assert.ok(mail.text.includes(`https://ci.example.org/#/builders/`), mail.text);
    assert.match(mail.headers.get('x-lathe-report-key') ?? '', /^mail:build-finished:\d+:0$/);
    // Passing builds and other builders' failures are not mailed (mode 'failing', builders ['app']).
    await master.reporters.runners[0]!.idle();
    assert.equal(receiver.buildMails.length, 1);
    assert.ok(receiver.passwords.length > 0 && receiver.passwords.every((p) => p === SMTP_PASSWORD));
    assert.ok(!problems.some((p) => p.includes(SMTP_PASSWORD)), 'the password reached the log');
  });

  it('mails a worker missing longer than its missingTimeout to its notifyOnMissing addresses', async () => {
    await waitFor(
      () => receiver.mails.some((m) => m.to.includes('ops@example.org')),
      20_000,
      'the missing mail',
    );
    const mails = receiver.mails.filter((m) => m.to.includes('ops@example.org'));
    assert.equal(mails.length, 1);
    assert.deepEqual(mails[0]!.to, ['ops@example.org']);
    assert.match(mails[0]!.subject, /Worker w2 has been missing/);
    assert.match(mails[0]!.text, /Worker w2 is not connected\./);
  });

  it('maps authors without an address through the lookup and the domain', async () => {
    receiver.mails.length = 0;
    await recordBuild(master.data, master.masterid, { builder: 'app', author: 'Dave Doe', results: FAILURE });
    await recordBuild(master.data, master.masterid, { builder: 'app', author: 'carol', results: FAILURE });
    await waitFor(() => receiver.buildMails.length >= 2, 20_000, 'two mails');
    assert.deepEqual([...receiver.buildMails[0]!.to].sort(), [
      'bob@example.com',
      'dave@example.net',
      'team@example.org',
    ]);
    assert.deepEqual([...receiver.buildMails[1]!.to].sort(), [
      'bob@example.com',
      'carol@example.org',
      'dave@example.net',
      'team@example.org',
    ]);
  });

  it('keeps the reports while the SMTP server is down and delivers them all, in order, when it is back', async () => {
    receiver.mails.length = 0;
    await receiver.close();
    const numbers: number[] = [];
    for (let i = 0; i < 4; i++)
      numbers.push(
        (
          await recordBuild(master.data, master.masterid, {
            builder: 'app',
            author: `dev${i}`,
            results: FAILURE,
          })
        ).number,
      );
    await waitFor(
      async () => (await master.reporters.status())[0]!.failedAttempts >= 3,
      20_000,
      'failed attempts',
    );
    const [down] = await master.reporters.status();
    assert.equal(down!.backlog >= 4, true, `backlog ${down!.backlog}`);
    assert.match(down!.lastError ?? '', /ECONNREFUSED/);
    // What `lathe status` prints of it.
    const text = formatStatus({
      name: 'm',
      masterid: 1,
      basedir: dir.path,
      pid: 1,
      startedAt: 0,
      accepting: true,
      canRunBuilds: false,
      workers: [],
      builds: [],
      pending: [],
      schedulers: [],
      reporters: [down!],
    });
    assert.match(
      text,
      /^reporters \(1\):\n {2}mail +backlog \d+, delivered 3, failing \(\d+ attempts, last \d+s ago\): .*ECONNREFUSED/m,
    );
    await receiver.open();
    await waitFor(() => receiver.buildMails.length >= 4, 20_000, 'the retried mails');
    assert.deepEqual(
      receiver.buildMails.map((m) => /Build #(\d+)/.exec(m.subject)![1]),
      numbers.map(String),
    );
    await master.reporters.runners[0]!.idle();
    const [up] = await master.reporters.status();
    assert.equal(up!.backlog, 0);
    assert.equal(up!.failedAttempts, 0);
  });
});
