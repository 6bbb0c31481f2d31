// Matrix, through the client-server API: `PUT /_matrix/client/v3/rooms/{roomId}/send/
// m.room.message/{txnId}` with the bot's access token. The report's key is the transaction
// id, so a retried delivery is the same transaction and the homeserver stores it once.
// https://spec.matrix.org/v1.11/client-server-api/#put_matrixclientv3roomsroomidsendeventtypetxnid

import { HttpReporter, type HttpReporterOptions, jsonHeaders } from '../http/reporter.js';
import { apiUrl, parseUrl } from '../http/send.js';
import type { DeliveryContext, Report } from '../report.js';
import type { SecretOption } from '../secret-option.js';
import { type ChatFormatter, type ChatMessage, chatMessage, plainText } from './message.js';

export interface MatrixReporterOptions extends HttpReporterOptions {
  /** The homeserver's client-server API, e.g. https://matrix.example.org. */
  readonly homeserverUrl: string;
  /** The room's id (`!abc:example.org`; the send API does not take aliases). The bot must have joined it. */
  readonly roomId: string;
  /** The bot account's access token: give it as `secret('name')`. */
  readonly accessToken: SecretOption;
  /** `m.notice` (default: what bots send, clients do not notify as loudly) or `m.text`. */
  readonly msgtype?: 'm.notice' | 'm.text';
  readonly format?: ChatFormatter;
}

export class MatrixReporter extends HttpReporter {
  readonly #options: MatrixReporterOptions;

  constructor(options: MatrixReporterOptions) {
    super('matrix', options);
    this.#options = options;
  }

  async deliver(report: Report, context: DeliveryContext): Promise<void> {
    const token = await this.secret(this.#options.accessToken, 'Matrix access token');
    const path = `/_matrix/client/v3/rooms/${encodeURIComponent(this.#options.roomId)}/send/m.room.message/${encodeURIComponent(report.key)}`;
    const url = apiUrl(parseUrl(this.#options.homeserverUrl, 'Matrix homeserver URL'), path);
    const message = (this.#options.format ?? chatMessage)(report);
    const body = JSON.stringify(matrixEvent(message, this.#options.msgtype ?? 'm.notice'));
    await this.send(
      { method: 'PUT', url, headers: jsonHeaders({ authorization: `Bearer ${token}` }), body },
      context,
      `Matrix PUT ${url.origin}${url.pathname}`,
      [token],
    );
  }
}

export function matrixEvent(message: ChatMessage, msgtype: string): Record<string, unknown> {
  const title = message.url
    ? `<a href="${escapeHtml(message.url)}">${escapeHtml(message.title)}</a>`
    : escapeHtml(message.title);
  const fields = message.fields.map(
    (f) => `<br><b>${escapeHtml(f.name)}</b>: ${escapeHtml(f.value).replace(/\n/g, '<br>')}`,
  );
  return {
    msgtype,
    body: plainText(message),
    format: 'org.matrix.custom.html',
    formatted_body: `<strong>${title}</strong>${fields.join('')}`,
  };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
