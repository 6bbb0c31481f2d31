// Message formatters overridden in master.config.ts, as a user writes them: the mail
// reporter's `template` (a new subject, the default body with a line added) and a Slack
// reporter's `format` (the default message with its title and fields changed). A real
// master delivers a failed build's reports to a real SMTP server and an HTTP receiver.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Master } from '../src/master.js';
import { FAILURE } from '../src/results.js';
import { waitFor } from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';
import { HttpReceiver } from './http-receiver.js';
import { recordBuild } from './report-history.js';
import {
  type Certificate,
  haveOpenssl,
  makeCertificate,
  SMTP_PASSWORD,
  SmtpReceiver,
} from './smtp-receiver.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;

function configText(smtpPort: number, caFile: string, slackUrl: string): string {
  return `import {
  buildStatusGenerator, chatMessage, defaultMailTemplate, defineConfig, MailReporter, SlackReporter,
  StaticSecretProvider, type ChatFormatter, type MailTemplate, type Report,
} from '${lathe}';
import { readFileSync } from 'node:fs';

const builderOf = (report: Report): string =>
  report.kind === 'build-finished' || report.kind === 'build-started' ? report.build.builderName : '?';

const template: Partial<MailTemplate> = {
  subject: (report) => \`CI alert: \${builderOf(report)} is red\`,
  text: (report) => \`\${defaultMailTemplate.text(report)}Runbook: https://wiki.example.org/ci/\${builderOf(report)}\\n\`,
};

const format: ChatFormatter = (report) => {
  const message = chatMessage(report);
  return { ...message, title: \`:rotating_light: \${builderOf(report)}\`, fields: message.fields.filter((f) => f.name === 'Result') };
};

export default defineConfig({
  buildbotURL: 'https://ci.example.org/',
  secretsProviders: [new StaticSecretProvider({ smtp: '${SMTP_PASSWORD}' })],
  reporters: [
    {
      reporter: new MailReporter({
        from: 'lathe@ci.example.org',
        to: ['team@example.org'],
        toBlamelist: false,
        smtp: { host: '127.0.0.1', port: ${smtpPort}, user: 'lathe', passwordSecret: 'smtp', ca: readFileSync(${JSON.stringify(caFile)}, 'utf8'), timeoutMs: 3000 },
        template,
      }),
      generators: [buildStatusGenerator({ mode: 'failing' })],
      retry: { initialDelayMs: 100, maxDelayMs: 400 },
    },
    {
      reporter: new SlackReporter({ webhookUrl: '${slackUrl}', format }),
      generators: [buildStatusGenerator({ mode: 'failing' })],
      retry: { initialDelayMs: 100, maxDelayMs: 400 },
    },
  ],
});
`;
}

describe('message formatters from master.config.ts', {
  skip: !haveOpenssl && 'no openssl',
  timeout: 60_000,
}, () => {
  const dir = tempDir('lathe-formatters-');
  let certificate: Certificate;
  let smtp: SmtpReceiver;
  let slack: HttpReceiver;
  let master: Master;

  before(async () => {
    certificate = makeCertificate(dir.path);
    writeFileSync(join(dir.path, 'ca.pem'), certificate.cert);
    smtp = new SmtpReceiver(certificate, 'lathe', SMTP_PASSWORD);
    await smtp.open(0);
    slack = await HttpReceiver.start();
    writeFileSync(
      join(dir.path, 'master.config.ts'),
      configText(smtp.port, join(dir.path, 'ca.pem'), `${slack.url}/services/T0/B0/hook`),
    );
    master = await startMaster({ basedir: dir.path, name: 'formatters', onError: () => {} });
  });

  after(async () => {
    await master?.stop();
    await smtp?.close();
    await slack?.close();
    dir.cleanup();
  });

  it('mails with the configured template and posts the configured chat message', async () => {
    const failed = await recordBuild(master.data, master.masterid, {
      builder: 'app',
      author: 'Bob <bob@example.com>',
      results: FAILURE,
    });
    await waitFor(() => smtp.mails.length > 0 && slack.requests.length > 0, 20_000, 'the mail and the post');

    const mail = smtp.mails[0]!;
    assert.equal(mail.subject, 'CI alert: app is red');
    // The default body is kept, with the added line at its end.
    assert.match(mail.text, new RegExp(`^Build #${failed.number} of app failed on main`));
    assert.match(mail.text, /Step compile: failure/);
    assert.ok(mail.text.endsWith('Runbook: https://wiki.example.org/ci/app\n'), mail.text);

    const body = JSON.parse(slack.requests[0]!.body);
    assert.match(
      body.text,
      /^<https:\/\/ci\.example\.org\/#\/builders\/\d+\/builds\/\d+\|:rotating_light: app>$/,
    );
    assert.deepEqual(
      body.blocks[1].fields.map((f: { text: string }) => f.text),
      ['*Result*\nfailure'],
    );
  });
});
