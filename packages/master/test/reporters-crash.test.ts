// Reports pending when the master is killed with SIGKILL are delivered after the restart:
// the outbox rows commit with the builds' results and the cursor moves only after the SMTP
// server accepted a mail, so nothing is lost and the order holds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import type { Master } from '../src/master.js';
import { waitFor } from './bbworker.js';
import { startMaster, tempDir } from './helpers.js';
import {
  haveOpenssl,
  mailConfigText,
  makeCertificate,
  SMTP_PASSWORD,
  SmtpReceiver,
} from './smtp-receiver.js';

describe('reports pending at kill -9', { skip: !haveOpenssl && 'no openssl', timeout: 120_000 }, () => {
  const dir = tempDir('lathe-report-crash-');
  let master: Master | undefined;
  let receiver: SmtpReceiver | undefined;
  after(async () => {
    await master?.stop();
    await receiver?.close();
    dir.cleanup();
  });

  it('are all mailed, in order, by the restarted master', async () => {
    const certificate = makeCertificate(dir.path);
    writeFileSync(join(dir.path, 'ca.pem'), certificate.cert);
    receiver = new SmtpReceiver(certificate, 'lathe', SMTP_PASSWORD);
    // A port nobody listens on while the first master runs.
    await receiver.open(0);
    await receiver.close();
    writeFileSync(
      join(dir.path, 'master.config.ts'),
      mailConfigText(receiver.port, join(dir.path, 'ca.pem')),
    );

    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'report-crash-child.js'), dir.path, '5'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise((r) => child.once('exit', r));
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the master exited (${code}) before recording builds`)));
    });
    const { numbers } = JSON.parse(line) as { numbers: number[] };
    child.kill('SIGKILL');
    await exited;
    assert.equal(receiver.buildMails.length, 0);

    await receiver.open();
    master = await startMaster({ basedir: dir.path, name: 'report-crash', onError: () => {} });
    await waitFor(() => receiver!.buildMails.length >= numbers.length, 30_000, 'the pending mails');
    assert.deepEqual(
      receiver.buildMails.map((m) => Number(/Build #(\d+)/.exec(m.subject)![1])),
      numbers,
    );
    await master.reporters.runners[0]!.idle();
    assert.equal(receiver.buildMails.length, numbers.length, 'each report once');
  });
});
