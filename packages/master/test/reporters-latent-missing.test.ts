// A latent worker that cannot be started is reported missing through the reporters'
// outbox, like any missing worker: a command latent worker whose start command fails
// `startAttempts` times gets its admins (notifyOnMissing) a mail, through a real SMTP server,
// naming the error (the password masked); a second round of failures in the same absence
// mails nobody again.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { BusMessage } from '../src/bus/events.js';
import type { Master } from '../src/master.js';
import { forceBuild } from '../src/process/control.js';
import { withWorkers } from '../src/runtime.js';
import { waitFor } from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';
import {
  type Certificate,
  haveOpenssl,
  makeCertificate,
  SMTP_PASSWORD,
  SmtpReceiver,
} from './smtp-receiver.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const WORKER_PASSWORD = 'pw-latent-Kx7';

function configText(port: number, caFile: string): string {
  const start = 'echo "no capacity for $LATHE_WORKER_NAME ($LATHE_WORKER_PASSWORD)" >&2; exit 4';
  return `import { buildFactory, commandLatentWorker, defineConfig, MailReporter, shellCommand, StaticSecretProvider, workerMissingGenerator } from '${lathe}';
import { readFileSync } from 'node:fs';
export default defineConfig({
  secretsProviders: [new StaticSecretProvider({ smtp: '${SMTP_PASSWORD}' })],
  workers: [
    commandLatentWorker({
      name: 'cloud1', password: ${JSON.stringify(WORKER_PASSWORD)}, notifyOnMissing: ['admin@example.org'],
      startAttempts: 2, retryDelay: 0.1, missingRetryDelay: 0.3,
      start: ['sh', '-c', ${JSON.stringify(start)}], stop: ['true'],
    }),
  ],
  builders: [{ name: 'app', workerNames: ['cloud1'], factory: buildFactory(shellCommand({ name: 'make', command: 'true' })) }],
  reporters: [
    {
      reporter: new MailReporter({
        from: 'lathe@ci.example.org',
        to: ['team@example.org'],
        smtp: { host: '127.0.0.1', port: ${port}, user: 'lathe', passwordSecret: 'smtp', ca: readFileSync(${JSON.stringify(caFile)}, 'utf8'), timeoutMs: 3000 },
      }),
      generators: [workerMissingGenerator()],
      retry: { initialDelayMs: 100, maxDelayMs: 400 },
    },
  ],
});
`;
}

describe('a latent worker that cannot be started', {
  skip: !haveOpenssl && 'no openssl',
  timeout: 60_000,
}, () => {
  const dir = tempDir('lathe-latent-missing-');
  let certificate: Certificate;
  let receiver: SmtpReceiver;
  let master: Master;
  const missing: BusMessage[] = [];

  before(async () => {
    certificate = makeCertificate(dir.path);
    writeFileSync(join(dir.path, 'ca.pem'), certificate.cert);
    receiver = new SmtpReceiver(certificate, 'lathe', SMTP_PASSWORD);
    await receiver.open(0);
    writeFileSync(join(dir.path, 'master.config.ts'), configText(receiver.port, join(dir.path, 'ca.pem')));
    const rt = withWorkers(
      { basedir: dir.path, name: 'latent-missing', onError: () => {} },
      { port: 0, host: '127.0.0.1', logger: { info: () => {}, warn: () => {} } },
    );
    master = await startMaster(rt.options);
    master.bus.subscribe('worker.missing.#', (m) => {
      missing.push(m as BusMessage);
    });
  });

  after(async () => {
    await master?.stop();
    await receiver?.close();
    dir.cleanup();
  });

  it('mails its admins once per absence, with the start error, from an outbox row', async () => {
    await forceBuild(master, { builder: 'app', reason: 'needs a worker' });
    await waitFor(() => receiver.mails.length > 0, 30_000, 'the worker-missing mail');
    const mail = receiver.mails[0]!;
    assert.deepEqual(mail.to, ['admin@example.org']);
    assert.match(mail.subject, /Worker cloud1 could not be started \(2 attempts\)/);
    assert.match(mail.text, /could not start latent worker cloud1 in 2 attempts/);
    assert.match(mail.text, /no capacity for cloud1 \(\*\*\*\)/);
    assert.ok(!mail.text.includes(WORKER_PASSWORD), 'the worker password reached the mail');
    assert.match(mail.headers.get('x-lathe-report-key') ?? '', /^mail:worker-missing:\d+:0$/);
    const rows = await master.data.ctx.db
      .selectFrom('report_events')
      .selectAll()
      .where('kind', '=', 'worker-missing')
      .execute();
    assert.equal(rows.length, 1);
    const details = JSON.parse(rows[0]!.details) as Record<string, unknown>;
    assert.equal(details.name, 'cloud1');
    assert.equal(details.lastSeen, null);
    assert.equal(details.startAttempts, 2);
    assert.match(String(details.startError), /exited with code 4/);
    // The request still waits: after missingRetryDelay another round fails, in the same absence.
    await waitFor(() => missing.length >= 2, 30_000, 'a second round of failed starts');
    await master.reporters.runners[0]!.idle();
    assert.equal(receiver.mails.length, 1, 'the same absence was mailed twice');
  });
});
