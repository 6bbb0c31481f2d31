// The SMTP server (npm smtp-server, plain, no auth) bench/reporters/run.ts mails to, in a
// process of its own so that its CPU is not counted as the master's. It tells the parent
// over IPC the build number in each accepted mail's subject and when it was accepted
// (epoch ms, sub-millisecond), and goes down (stops listening, drops its connections) and
// comes back on the same port when the parent says so: a receiver outage.
import { SMTPServer } from 'smtp-server';

export type SinkCommand = 'down' | 'up';
export type SinkMessage =
  | { readonly kind: 'listening'; readonly port: number }
  | { readonly kind: 'down' }
  | { readonly kind: 'mail'; readonly build: number; readonly at: number };

const send = (m: SinkMessage) => process.send?.(m);
const now = () => performance.timeOrigin + performance.now();
let port = 0;
let server: SMTPServer | null = null;

async function open(): Promise<void> {
  const s = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    // Down means down: open connections are dropped at once, not after 30 s of grace.
    closeTimeout: 1,
    onData(stream, _session, callback) {
      let head = '';
      stream.on('data', (c: Buffer) => {
        if (head.length < 4096) head += c.toString('latin1');
      });
      stream.on('end', () => {
        const number = /^Subject: .*Build #(\d+) /im.exec(head)?.[1];
        if (number) send({ kind: 'mail', build: Number(number), at: now() });
        callback();
      });
    },
  });
  s.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    s.server.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve());
  });
  port = (s.server.address() as { port: number }).port;
  server = s;
  send({ kind: 'listening', port });
}

async function close(): Promise<void> {
  const s = server;
  server = null;
  if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  send({ kind: 'down' });
}

process.on('message', (command: SinkCommand) => {
  void (command === 'down' ? close() : open());
});
process.on('disconnect', () => process.exit(0));
await open();
