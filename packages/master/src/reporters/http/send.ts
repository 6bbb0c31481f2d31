// One HTTP request of a delivery attempt: sent with a timeout, the answer read (bounded),
// and a failure turned into the error the delivery framework acts on: retryable (network
// errors, timeouts, 408, 429, 5xx, GitHub's 403 rate limit, with the delay asked for) or
// permanent (any other 4xx, redirects). Every message is built without the request's
// secrets: the target is described by the caller, and the receiver's answer is masked.
import http from 'node:http';
import https from 'node:https';
import { Redactor } from '../../properties/redactor.js';
import { PermanentDeliveryError } from '../report.js';
import { PermanentHttpError, RetryableDeliveryError } from './errors.js';
import { isRateLimitExhausted, retryAfterMs } from './retry-after.js';

export interface HttpRequest {
  readonly method: 'POST' | 'PUT';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface HttpAnswer {
  readonly status: number;
  header(name: string): string | undefined;
  /** The start of the body (at most 64 KiB), as text. */
  readonly body: string;
}

export type HttpTransport = (request: HttpRequest, signal: AbortSignal) => Promise<HttpAnswer>;

// Enough for any error message or JSON answer; a receiver cannot make us buffer more.
const MAX_ANSWER_BYTES = 64 * 1024;
const EXCERPT_CHARS = 300;

export const DEFAULT_TIMEOUT_MS = 30_000;

/** Node's built-in fetch. Redirects are not followed: a POST must reach the configured URL. */
export const fetchTransport: HttpTransport = async (request, signal) => {
  const res = await fetch(request.url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal,
    redirect: 'manual',
  });
  const body = await readBounded(res.body);
  return { status: res.status, header: (name) => res.headers.get(name) ?? undefined, body };
};

async function readBounded(stream: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!stream) return '';
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}

/** The TLS client settings of mutual TLS: PEM texts. */
export interface ClientTls {
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly passphrase?: string;
  /** The CAs that may sign the receiver's certificate, instead of Node's bundled ones. */
  readonly ca?: string | Buffer | (string | Buffer)[];
}

/** node:http(s), for what fetch cannot do: client certificates and private CAs. */
export function nodeTransport(tls: ClientTls): HttpTransport {
  return (request, signal) =>
    new Promise<HttpAnswer>((resolve, reject) => {
      const options: https.RequestOptions = {
        method: request.method,
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        signal,
      };
      const send = request.url.protocol === 'https:' ? https.request : http.request;
      const req = send(
        request.url,
        request.url.protocol === 'https:' ? { ...options, ...tls } : options,
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const finish = () =>
            resolve({
              status: res.statusCode ?? 0,
              header: (name) => {
                const value = res.headers[name.toLowerCase()];
                return Array.isArray(value) ? value.join(', ') : value;
              },
              body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8'),
            });
          res.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            size += chunk.length;
            if (size >= MAX_ANSWER_BYTES) {
              finish();
              res.destroy();
            }
          });
          res.on('end', finish);
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(request.body);
    });
}

export interface SendOptions {
  /** The delivery's signal: aborting it (the master stops) aborts the request. */
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /** Names the receiver in errors, e.g. "GitHub POST /repos/o/r/statuses/abc"; no secrets. */
  readonly target: string;
  /** Every secret the request carries, in each form it is sent in; masked in errors. */
  readonly secrets: readonly string[];
  readonly transport?: HttpTransport;
}

/** Sends the request; resolves with a 2xx answer, throws the classified error otherwise. */
export async function send(request: HttpRequest, options: SendOptions): Promise<HttpAnswer> {
  const redactor = new Redactor();
  for (const secret of options.secrets) {
    redactor.add(secret);
    redactor.add(encodeURIComponent(secret));
  }
  const timeout = AbortSignal.timeout(options.timeoutMs);
  let answer: HttpAnswer;
  try {
    answer = await (options.transport ?? fetchTransport)(request, AbortSignal.any([options.signal, timeout]));
  } catch (e) {
    if (options.signal.aborted) throw options.signal.reason;
    if (timeout.aborted)
      throw new RetryableDeliveryError(
        `${options.target}: no answer within ${options.timeoutMs / 1000} s`,
        undefined,
        undefined,
      );
    // The cause is not attached: only its message, masked, so nothing secret rides along.
    throw new RetryableDeliveryError(
      `${options.target}: ${redactor.redact(networkErrorText(e))}`,
      undefined,
      undefined,
    );
  }
  if (answer.status >= 200 && answer.status < 300) return answer;
  throw classify(answer, options.target, redactor);
}

function networkErrorText(e: unknown): string {
  const cause = (e as { cause?: unknown }).cause;
  const error = cause instanceof Error ? cause : e;
  return error instanceof Error ? error.message : String(error);
}

function classify(answer: HttpAnswer, target: string, redactor: Redactor): Error {
  const { status } = answer;
  const excerpt = redactor.redact(answer.body).replace(/\s+/g, ' ').trim().slice(0, EXCERPT_CHARS);
  const said = `${target} answered ${status}${excerpt ? `: ${excerpt}` : ''}`;
  const retryable =
    status === 408 || status === 429 || status >= 500 || (status === 403 && isRateLimitExhausted(answer));
  if (retryable) return new RetryableDeliveryError(said, status, retryAfterMs(answer));
  if (status >= 300 && status < 400)
    return new PermanentHttpError(
      `${target} answered ${status} (a redirect); configure the address it redirects to`,
      status,
      excerpt,
    );
  return new PermanentHttpError(said, status, excerpt);
}

/** A URL option that may be a credential itself: the error never quotes it. */
export function parseUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PermanentDeliveryError(`the ${what} is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new PermanentDeliveryError(`the ${what} must be an http or https URL`);
  return url;
}

/** `base` (which may have a path, e.g. GitHub Enterprise's /api/v3) + `path`. */
export function apiUrl(base: URL, path: string): URL {
  return new URL(base.href.replace(/\/+$/, '') + path);
}
