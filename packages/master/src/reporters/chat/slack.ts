// Slack incoming webhooks (and the Slack-compatible ones of Mattermost and Rocket.Chat):
// POST JSON with `text` (the notification's fallback) and Block Kit `blocks`.
// https://api.slack.com/messaging/webhooks

import { HttpReporter, type HttpReporterOptions, jsonHeaders, urlSecrets } from '../http/reporter.js';
import { parseUrl } from '../http/send.js';
import type { DeliveryContext, Report } from '../report.js';
import type { SecretOption } from '../secret-option.js';
import { type ChatFormatter, type ChatMessage, chatMessage, clip } from './message.js';

export interface SlackReporterOptions extends HttpReporterOptions {
  /** The incoming webhook's URL. It is the credential: give it as `secret('name')`. */
  readonly webhookUrl: SecretOption;
  /** Overrides honoured by Mattermost, Rocket.Chat and Slack's legacy webhooks. */
  readonly channel?: string;
  readonly username?: string;
  readonly format?: ChatFormatter;
}

// Block Kit limits: section text 3000, a field 2000, at most 10 fields.
const SECTION_CHARS = 3000;
const FIELD_CHARS = 2000;
const MAX_FIELDS = 10;

export class SlackReporter extends HttpReporter {
  readonly #options: SlackReporterOptions;

  constructor(options: SlackReporterOptions) {
    super('slack', options);
    this.#options = options;
  }

  async deliver(report: Report, context: DeliveryContext): Promise<void> {
    const webhook = await this.secret(this.#options.webhookUrl, 'Slack webhook URL');
    const url = parseUrl(webhook, 'Slack webhook URL');
    const message = (this.#options.format ?? chatMessage)(report);
    const body = JSON.stringify(slackPayload(message, this.#options));
    await this.send(
      { method: 'POST', url, headers: jsonHeaders(), body },
      context,
      `Slack webhook at ${url.origin}`,
      urlSecrets(url),
    );
  }
}

export function slackPayload(
  message: ChatMessage,
  overrides: { readonly channel?: string; readonly username?: string } = {},
): Record<string, unknown> {
  const title = message.url ? `<${message.url}|${escapeMrkdwn(message.title)}>` : escapeMrkdwn(message.title);
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: clip(`*${title}*`, SECTION_CHARS) } },
  ];
  if (message.fields.length > 0)
    blocks.push({
      type: 'section',
      fields: message.fields.slice(0, MAX_FIELDS).map((f) => ({
        type: 'mrkdwn',
        text: clip(`*${escapeMrkdwn(f.name)}*\n${escapeMrkdwn(f.value)}`, FIELD_CHARS),
      })),
    });
  return {
    text: clip(title, SECTION_CHARS),
    blocks,
    ...(overrides.channel ? { channel: overrides.channel } : {}),
    ...(overrides.username ? { username: overrides.username } : {}),
  };
}

/** Slack's three control characters in mrkdwn text. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
