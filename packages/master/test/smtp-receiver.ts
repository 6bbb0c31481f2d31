// A real SMTP server (npm smtp-server) on loopback for the reporter tests: STARTTLS with a
// certificate openssl makes, AUTH PLAIN/LOGIN checked against one user, every accepted
// mail kept with its envelope. It can be closed and reopened on the same port (a receiver
// that is down for a while).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SMTPServer } from 'smtp-server';

export const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

const latheIndex = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
export const SMTP_PASSWORD = 'smtp-pw-Zq81';

/**
 * A master config with a mail reporter (STARTTLS trusting `caFile`, AUTH with the password
 * from a secret) reporting the failures of builder `app`, retrying every 100-400 ms, and
 * one mailing ops@example.org when worker w2 (which never connects) is missing for 1 s.
 */
export function mailConfigText(port: number, caFile: string): string {
  return `import { buildStatusGenerator, workerMissingGenerator, defineConfig, MailReporter, StaticSecretProvider, buildFactory } from '${latheIndex}';
import { readFileSync } from 'node:fs';
const step = { name: 'compile', async run() { return 0 as const; } };
export default defineConfig({
  buildbotURL: 'https://ci.example.org/',
  secretsProviders: [new StaticSecretProvider({ smtp: '${SMTP_PASSWORD}' })],
  workers: [
    { name: 'w1', password: 'pw' },
    { name: 'w2', password: 'pw', missingTimeout: 1, notifyOnMissing: ['ops@example.org'] },
  ],
  builders: [{ name: 'app', workerNames: ['w1'], factory: buildFactory(step) }],
  reporters: [
    {
      reporter: new MailReporter({
        from: 'lathe@ci.example.org',
        to: ['team@example.org'],
        smtp: { host: '127.0.0.1', port: ${port}, user: 'lathe', passwordSecret: 'smtp', ca: readFileSync(${JSON.stringify(caFile)}, 'utf8'), timeoutMs: 3000 },
        lookup: { addresses: { 'Dave Doe': 'dave@example.net' }, domain: 'example.org' },
      }),
      generators: [buildStatusGenerator({ mode: 'failing', builders: ['app'] })],
      retry: { initialDelayMs: 100, maxDelayMs: 400 },
    },
    {
      reporter: new MailReporter({
        name: 'ops-mail',
        from: 'lathe@ci.example.org',
        smtp: { host: '127.0.0.1', port: ${port}, user: 'lathe', passwordSecret: 'smtp', ca: readFileSync(${JSON.stringify(caFile)}, 'utf8'), timeoutMs: 3000 },
      }),
      generators: [workerMissingGenerator()],
      retry: { initialDelayMs: 100, maxDelayMs: 400 },
    },
  ],
});
`;
}

export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly text: string;
}

export interface Certificate {
  readonly key: string;
  readonly cert: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost. */
export function makeCertificate(dir: string): Certificate {
  const key = join(dir, 'smtp-key.pem');
  const cert = join(dir, 'smtp-cert.pem');
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr?.toString()}`);
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

/** Quoted-printable soft breaks and escapes undone (nodemailer uses it for long or non-ASCII lines). */
function decodeBody(body: string, encoding: string | undefined): string {
  if (encoding?.toLowerCase() !== 'quoted-printable') return body;
  const bytes = Buffer.from(
    body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
    'latin1',
  );
  return bytes.toString('utf8');
}

function parse(raw: string, from: string, to: string[]): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  const text = decodeBody(raw.slice(split + 4), headers.get('content-transfer-encoding')).replace(
    /\r\n/g,
    '\n',
  );
  return { from, to, subject: headers.get('subject') ?? '', headers, text };
}

export class SmtpReceiver {
  readonly mails: ReceivedMail[] = [];

  /** The mails about builds (not the worker-missing ones to ops@example.org). */
  get buildMails(): ReceivedMail[] {
    return this.mails.filter((m) => !m.to.includes('ops@example.org'));
  }
  /** Every password offered in AUTH, right or wrong (to check which one the reporter sent). */
  readonly passwords: string[] = [];
  #server: SMTPServer | null = null;
  port = 0;

  constructor(
    private readonly certificate: Certificate,
    private readonly user: string,
    private readonly password: string,
  ) {}

  async open(port = this.port): Promise<void> {
    const server = new SMTPServer({
      key: this.certificate.key,
      cert: this.certificate.cert,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth: (auth, _session, callback) => {
        this.passwords.push(auth.password ?? '');
        if (auth.username === this.user && auth.password === this.password)
          callback(null, { user: auth.username });
        else callback(new Error('Invalid username or password'));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          this.mails.push(
            parse(
              Buffer.concat(chunks).toString('utf8'),
              from,
              session.envelope.rcptTo.map((r) => r.address),
            ),
          );
          callback();
        });
      },
    });
    server.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Stops listening and drops open connections: the receiver is down. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
