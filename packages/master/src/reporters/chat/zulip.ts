// Zulip: `POST /api/v1/messages`, form-encoded, with the bot's email and API key as HTTP
// basic auth; a stream message under a topic (the builder's name unless configured).
// Zulip has no idempotency key: a delivery retried after a lost answer posts twice.
// https://zulip.com/api/send-message

import { HttpReporter, type HttpReporterOptions, USER_AGENT } from '../http/reporter.js';
import { apiUrl, parseUrl } from '../http/send.js';
import type { DeliveryContext, Report } from '../report.js';
import type { SecretOption } from '../secret-option.js';
import { type ChatFormatter, type ChatMessage, chatMessage } from './message.js';

export interface ZulipReporterOptions extends HttpReporterOptions {
  /** The organisation's URL, e.g. https://example.zulipchat.com. */
  readonly siteUrl: string;
  /** The bot's email address (its user name for the API). */
  readonly email: string;
  /** The bot's API key: give it as `secret('name')`. */
  readonly apiKey: SecretOption;
  /** The stream (channel) to post to. */
  readonly stream: string;
  /** The topic: a fixed text or one computed from the report; default the builder's name. */
  readonly topic?: string | ((report: Report) => string);
  readonly format?: ChatFormatter;
}

// Zulip refuses longer topics.
const TOPIC_CHARS = 60;

export class ZulipReporter extends HttpReporter {
  readonly #options: ZulipReporterOptions;

  constructor(options: ZulipReporterOptions) {
    super('zulip', options);
    this.#options = options;
  }

  async deliver(report: Report, context: DeliveryContext): Promise<void> {
    const apiKey = await this.secret(this.#options.apiKey, 'Zulip API key');
    const credentials = Buffer.from(`${this.#options.email}:${apiKey}`).toString('base64');
    const url = apiUrl(parseUrl(this.#options.siteUrl, 'Zulip site URL'), '/api/v1/messages');
    const message = (this.#options.format ?? chatMessage)(report);
    const body = new URLSearchParams({
      type: 'stream',
      to: this.#options.stream,
      topic: this.#topic(report).slice(0, TOPIC_CHARS),
      content: zulipMarkdown(message),
    }).toString();
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': USER_AGENT,
      authorization: `Basic ${credentials}`,
    };
    await this.send(
      { method: 'POST', url, headers, body },
      context,
      `Zulip POST ${url.origin}${url.pathname}`,
      [apiKey, credentials],
    );
  }

  #topic(report: Report): string {
    const topic = this.#options.topic;
    if (typeof topic === 'function') return topic(report);
    if (topic) return topic;
    switch (report.kind) {
      case 'build-started':
      case 'build-finished':
        return report.build.builderName;
      case 'buildset-finished':
        return 'buildsets';
      case 'worker-missing':
        return 'workers';
    }
  }
}

export function zulipMarkdown(message: ChatMessage): string {
  const title = message.url ? `**[${message.title}](${message.url})**` : `**${message.title}**`;
  const fields = message.fields.map((f) =>
    f.value.includes('\n')
      ? `* **${f.name}**:\n${f.value
          .split('\n')
          .map((line) => `  * ${line}`)
          .join('\n')}`
      : `* **${f.name}**: ${f.value}`,
  );
  return [title, ...fields].join('\n');
}
