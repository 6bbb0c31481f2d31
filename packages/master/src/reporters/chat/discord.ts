// Discord webhooks: POST JSON with `content` and one embed (title linking to the build,
// a colour for the result, inline fields). `?wait=true` makes Discord answer only once
// the message is stored, so a 2xx means delivered. Mentions are disabled: commit messages
// and author names must not ping @everyone.
// https://discord.com/developers/docs/resources/webhook#execute-webhook

import { HttpReporter, type HttpReporterOptions, jsonHeaders, urlSecrets } from '../http/reporter.js';
import { parseUrl } from '../http/send.js';
import type { DeliveryContext, Report } from '../report.js';
import type { SecretOption } from '../secret-option.js';
import { type ChatFormatter, type ChatMessage, type ChatTone, chatMessage, clip } from './message.js';

export interface DiscordReporterOptions extends HttpReporterOptions {
  /** The webhook's URL (https://discord.com/api/webhooks/<id>/<token>): give it as `secret('name')`. */
  readonly webhookUrl: SecretOption;
  /** Overrides the webhook's default name. */
  readonly username?: string;
  readonly format?: ChatFormatter;
}

const COLOURS: Record<ChatTone, number> = {
  good: 0x2ecc71,
  warning: 0xf1c40f,
  bad: 0xe74c3c,
  neutral: 0x95a5a6,
};

// Discord's limits: content 2000, embed title 256, field name 256, field value 1024, 25 fields.
const CONTENT_CHARS = 2000;
const TITLE_CHARS = 256;
const FIELD_VALUE_CHARS = 1024;
const MAX_FIELDS = 25;

export class DiscordReporter extends HttpReporter {
  readonly #options: DiscordReporterOptions;

  constructor(options: DiscordReporterOptions) {
    super('discord', options);
    this.#options = options;
  }

  async deliver(report: Report, context: DeliveryContext): Promise<void> {
    const webhook = await this.secret(this.#options.webhookUrl, 'Discord webhook URL');
    const url = parseUrl(webhook, 'Discord webhook URL');
    url.searchParams.set('wait', 'true');
    const message = (this.#options.format ?? chatMessage)(report);
    const body = JSON.stringify(discordPayload(message, report.at, this.#options.username));
    await this.send(
      { method: 'POST', url, headers: jsonHeaders(), body },
      context,
      `Discord webhook at ${url.origin}`,
      urlSecrets(url),
    );
  }
}

export function discordPayload(message: ChatMessage, at: number, username?: string): Record<string, unknown> {
  return {
    content: clip(message.title, CONTENT_CHARS),
    embeds: [
      {
        title: clip(message.title, TITLE_CHARS),
        ...(message.url ? { url: message.url } : {}),
        color: COLOURS[message.tone],
        timestamp: new Date(at * 1000).toISOString(),
        fields: message.fields.slice(0, MAX_FIELDS).map((f) => ({
          name: clip(f.name, TITLE_CHARS),
          value: clip(f.value, FIELD_VALUE_CHARS),
          inline: !f.value.includes('\n'),
        })),
      },
    ],
    allowed_mentions: { parse: [] },
    ...(username ? { username } : {}),
  };
}
