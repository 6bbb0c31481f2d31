// What every reporter that delivers over HTTP shares: its name, its secret options and
// sending one request per attempt with the configured timeout.
import type { DeliveryContext, Report, Reporter } from '../report.js';
import { type SecretLookup, type SecretOption, SecretResolver, type UsesSecrets } from '../secret-option.js';
import { DEFAULT_TIMEOUT_MS, type HttpAnswer, type HttpRequest, type HttpTransport, send } from './send.js';

export interface HttpReporterOptions {
  /** Unique among the config's reporters (it names the delivery cursor); each class has a default. */
  readonly name?: string;
  /** How long one attempt waits for the receiver's answer; default 30 000 ms. */
  readonly timeoutMs?: number;
  /** Where `secret('name')` options are looked up, when not handed over by `useSecrets`. */
  readonly secrets?: SecretLookup;
}

export abstract class HttpReporter implements Reporter, UsesSecrets {
  readonly name: string;
  readonly #secrets: SecretResolver;
  readonly #timeoutMs: number;

  constructor(defaultName: string, options: HttpReporterOptions) {
    this.name = options.name ?? defaultName;
    this.#secrets = new SecretResolver(options.secrets);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  useSecrets(lookup: SecretLookup): void {
    this.#secrets.useSecrets(lookup);
  }

  abstract deliver(report: Report, context: DeliveryContext): Promise<void>;

  protected secret(option: SecretOption, what: string): Promise<string> {
    return this.#secrets.resolve(option, what);
  }

  /** `target` names the receiver in errors; `secrets` are masked in them. */
  protected send(
    request: HttpRequest,
    context: DeliveryContext,
    target: string,
    secrets: readonly string[],
    transport?: HttpTransport,
  ): Promise<HttpAnswer> {
    return send(request, {
      signal: context.signal,
      timeoutMs: this.#timeoutMs,
      target,
      secrets,
      ...(transport ? { transport } : {}),
    });
  }
}

/** A URL that is a credential (a webhook's), in the forms a receiver might echo it. */
export function urlSecrets(url: URL): string[] {
  return [url.href, url.pathname, url.pathname + url.search].filter((s) => s.length > 1);
}

export const USER_AGENT = 'lathe-master';

export function jsonHeaders(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...extra };
}
