// A real IRC server for the IRC bot's tests: Debian's ngIRCd in the foreground (`-n`) on a
// loopback port, with a generated config, MOTD and pid file in a temporary directory (and
// none of the system's config). Started as root, ngIRCd drops to `nobody`, so the
// directory is world-readable and its pid directory world-writable.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const NGIRCD = '/usr/sbin/ngircd';

export function ngircdAvailable(): boolean {
  return existsSync(NGIRCD);
}

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface NgircdOptions {
  /** The server password clients must send (PASS). */
  readonly password: string;
  /** Default: a free port. */
  readonly port?: number;
  /** Also listen with TLS (a self-signed certificate made with openssl) on `tlsPort`. */
  readonly tls?: boolean;
}

export class Ngircd {
  #proc: ChildProcess | null = null;
  #output = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly password: string,
    /** The TLS port, when started with `tls`. */
    readonly tlsPort: number | null,
  ) {}

  /** Writes the config under `dir` and starts the server; resolves once it listens. */
  static async start(dir: string, options: NgircdOptions): Promise<Ngircd> {
    const port = options.port ?? (await freePort());
    const server = new Ngircd(dir, port, options.password, options.tls ? await freePort() : null);
    await server.restart();
    return server;
  }

  /** What the server logged (for failure messages). */
  get output(): string {
    return this.#output;
  }

  /** Starts the server (again, after `kill`) on the same port with the same config. */
  async restart(): Promise<void> {
    const dir = this.dir;
    mkdirSync(join(dir, 'run'), { recursive: true });
    mkdirSync(join(dir, 'conf.d'), { recursive: true });
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'run'), 0o777);
    writeFileSync(join(dir, 'motd'), 'Lathe test IRC server\n', { mode: 0o644 });
    const tls: string[] = [];
    if (this.tlsPort !== null) {
      const cert = join(dir, 'cert.pem');
      const key = join(dir, 'key.pem');
      if (!existsSync(cert))
        execFileSync(
          'openssl',
          [
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-days',
            '1',
            '-subj',
            '/CN=localhost',
            '-keyout',
            key,
            '-out',
            cert,
          ],
          { stdio: 'ignore' },
        );
      // A throwaway key; readable by `nobody`, whom ngIRCd becomes when started as root.
      chmodSync(key, 0o644);
      tls.push('[SSL]', `  CertFile = ${cert}`, `  KeyFile = ${key}`, `  Ports = ${this.tlsPort}`);
    }
    writeFileSync(
      join(dir, 'ngircd.conf'),
      [
        '[Global]',
        '  Name = irc.lathe.test',
        '  Info = Lathe test server',
        '  AdminInfo1 = Lathe tests',
        '  AdminInfo2 = localhost',
        '  AdminEMail = root@localhost',
        `  MotdFile = ${join(dir, 'motd')}`,
        `  PidFile = ${join(dir, 'run', 'ngircd.pid')}`,
        '  Listen = 127.0.0.1',
        `  Ports = ${this.port}`,
        `  Password = ${this.password}`,
        '[Limits]',
        '  MaxConnectionsIP = 0',
        '  MaxJoins = 0',
        '[Options]',
        `  IncludeDir = ${join(dir, 'conf.d')}`,
        '  PAM = no',
        '  DNS = no',
        '  Ident = no',
        ...tls,
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
    const proc = spawn(NGIRCD, ['-n', '-f', join(dir, 'ngircd.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        this.#output += chunk.toString();
        if (/Server ".*" .*ready/.test(this.#output)) resolve();
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) =>
        reject(new Error(`ngircd exited (${code}) before it was ready:\n${this.#output}`)),
      );
      setTimeout(() => reject(new Error(`ngircd not ready after 10 s:\n${this.#output}`)), 10_000).unref();
    });
  }

  /** Kills the server at once (clients see their connection drop). */
  async kill(): Promise<void> {
    const proc = this.#proc;
    this.#proc = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }
}
