// Generic HTTP push: each report POSTed as JSON to a receiver of the user's, signed so the
// receiver can tell it came from this master, optionally over mutual TLS.
//
// The request:
//   POST <url>
//   Content-Type: application/json
//   X-Lathe-Event: <report kind>            build-started, build-finished, buildset-finished, worker-missing
//   Idempotency-Key: <report key>           the same for every retry of one report: drop repeats
//   X-Lathe-Signature-256: sha256=<hex>     HMAC-SHA256 of the exact body bytes, keyed with `secret`
//   body: {"summary": "<one line>", "report": <the Report, as reporters/report.ts defines it>}
//
// A receiver computes the HMAC over the raw body it read (before parsing it) and compares it
// with the header in constant time.
import { createHmac } from 'node:crypto';
import { HttpReporter, type HttpReporterOptions, jsonHeaders } from './http/reporter.js';
import { type ClientTls, type HttpTransport, nodeTransport, parseUrl } from './http/send.js';
import { type DeliveryContext, PermanentDeliveryError, type Report, reportSummary } from './report.js';
import type { SecretOption } from './secret-option.js';

export const SIGNATURE_HEADER = 'x-lathe-signature-256';
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const EVENT_HEADER = 'x-lathe-event';

export interface HttpPushTlsOptions {
  /** The client certificate (PEM) presented to a receiver that asks for one. */
  readonly cert?: string | Buffer;
  /** Its private key (PEM): a Buffer, or text / `secret('name')`. */
  readonly key?: SecretOption | Buffer;
  readonly passphrase?: SecretOption;
  /** The CA(s) that signed the receiver's certificate, when not a public one (PEM). */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
}

export interface HttpPushReporterOptions extends HttpReporterOptions {
  /** The receiver's URL (http or https). */
  readonly url: string;
  /** The HMAC key the body is signed with; give it as `secret('name')`. Required. */
  readonly secret: SecretOption;
  /** Mutual TLS and private CAs; the URL must be https. */
  readonly tls?: HttpPushTlsOptions;
}

export class HttpPushReporter extends HttpReporter {
  readonly #options: HttpPushReporterOptions;

  constructor(options: HttpPushReporterOptions) {
    super('http-push', options);
    this.#options = options;
  }

  async deliver(report: Report, context: DeliveryContext): Promise<void> {
    const url = parseUrl(this.#options.url, 'HTTP push URL');
    const key = await this.secret(this.#options.secret, 'HTTP push signing secret');
    const body = encode(report);
    const headers = jsonHeaders({
      [EVENT_HEADER]: report.kind,
      [IDEMPOTENCY_HEADER]: report.key,
      [SIGNATURE_HEADER]: signature(key, body),
    });
    const { transport, secrets } = await this.#tls(url);
    await this.send(
      { method: 'POST', url, headers, body },
      context,
      `HTTP push to ${url.origin}${url.pathname}`,
      [key, ...secrets],
      transport,
    );
  }

  async #tls(url: URL): Promise<{ transport?: HttpTransport; secrets: string[] }> {
    const tls = this.#options.tls;
    if (!tls) return { secrets: [] };
    if (url.protocol !== 'https:')
      throw new PermanentDeliveryError('the HTTP push URL must be https when tls options are given');
    const key =
      tls.key === undefined || Buffer.isBuffer(tls.key) ? tls.key : await this.secret(tls.key, 'client key');
    const passphrase =
      tls.passphrase === undefined ? undefined : await this.secret(tls.passphrase, 'key passphrase');
    const client: ClientTls = {
      ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
      ...(key !== undefined ? { key } : {}),
      ...(passphrase !== undefined ? { passphrase } : {}),
      ...(tls.ca !== undefined
        ? { ca: Array.isArray(tls.ca) ? [...tls.ca] : (tls.ca as string | Buffer) }
        : {}),
    };
    return { transport: nodeTransport(client), secrets: passphrase === undefined ? [] : [passphrase] };
  }
}

function encode(report: Report): string {
  try {
    return JSON.stringify({ summary: reportSummary(report), report });
  } catch (e) {
    // A property value JSON cannot carry (a BigInt, a cycle): no retry will change that.
    throw new PermanentDeliveryError(`report ${report.key} cannot be sent as JSON: ${(e as Error).message}`);
  }
}

/** The `X-Lathe-Signature-256` value for `body`: `sha256=` and the hex HMAC-SHA256. */
export function signature(key: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(body, 'utf8').digest('hex')}`;
}
