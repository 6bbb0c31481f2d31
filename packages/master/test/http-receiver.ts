// A real HTTP(S) server on loopback standing in for a webhook receiver or a forge's API:
// it records each request (method, path, headers, raw body) and answers with the replies a
// test queued, 200 `{}` when none is queued. A reply may be meant for one path only: when
// several senders share the receiver (reporters run concurrently), which of them asks first
// is not fixed.
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly method: string;
  /** Path and query as sent, still URL-encoded. */
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface Reply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Never answer (the client's timeout must fire). */
  readonly hang?: boolean;
  /** Given only to a request for this path (without the query); others skip it. */
  readonly path?: string;
}

export class HttpReceiver {
  readonly requests: ReceivedRequest[] = [];
  readonly #replies: Reply[] = [];
  readonly #server: http.Server;

  private constructor(server: http.Server) {
    this.#server = server;
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const reply = this.#takeReply(req.url ?? '');
        if (reply.hang) return;
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(reply.body ?? '');
      });
    });
  }

  /** Plain HTTP, or HTTPS with the given server options (certificates, client-cert checks). */
  static async start(tls?: https.ServerOptions): Promise<HttpReceiver> {
    const server = tls ? https.createServer(tls) : http.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return new HttpReceiver(server);
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `${this.#server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  /** Forgets what was received and any reply still queued (each test starts afresh). */
  reset(): void {
    this.requests.length = 0;
    this.#replies.length = 0;
  }

  reply(...replies: Reply[]): void {
    this.#replies.push(...replies);
  }

  /** The first queued reply for this request's path (one without a path fits any). */
  #takeReply(url: string): Reply {
    const path = url.split('?')[0];
    const index = this.#replies.findIndex((r) => r.path === undefined || r.path === path);
    return index === -1 ? { status: 200, body: '{}' } : this.#replies.splice(index, 1)[0]!;
  }

  /** The only request received; fails the test when there were none or several. */
  only(): ReceivedRequest {
    if (this.requests.length !== 1) throw new Error(`expected 1 request, got ${this.requests.length}`);
    return this.requests[0]!;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}
