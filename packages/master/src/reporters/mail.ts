// The mail reporter: one mail per report over SMTP (nodemailer), to fixed addresses and to
// the authors of the blamelist's changes; worker-missing reports go to the worker's
// `notifyOnMissing` addresses. What a mail says is a template the config can override.
import nodemailer, { type Transporter } from 'nodemailer';
import { resultName } from '../results.js';
import {
  PermanentDeliveryError,
  type Report,
  type ReportChange,
  type Reporter,
  type ReporterStartContext,
  reportSummary,
} from './report.js';

export interface MailMessage {
  readonly subject: string;
  readonly text: string;
}

/** What a mail says about a report; override either part in master.config.ts. */
export interface MailTemplate {
  subject(report: Report): string;
  text(report: Report): string;
}

export interface SmtpOptions {
  readonly host: string;
  /** Default 587 for STARTTLS, 465 for implicit TLS, 25 without TLS. */
  readonly port?: number;
  /**
   * `starttls` (default): upgrade with STARTTLS and refuse a server that cannot; `tls`: TLS
   * from the first byte (port 465); `none`: plain text (a local relay).
   */
  readonly security?: 'starttls' | 'tls' | 'none';
  readonly user?: string;
  /** The name of the password in the config's secretsProviders (never the password itself). */
  readonly passwordSecret?: string;
  /** Trust these certificates (PEM) besides the system's, e.g. a private CA. */
  readonly ca?: string | readonly string[];
  /** Milliseconds to wait for connecting and for each reply; default 30 000. */
  readonly timeoutMs?: number;
}

/**
 * How an author becomes an address when the change does not carry one: a map from the
 * author string (or its name part) to an address, and/or a domain appended to a bare
 * user name (`alice` → `alice@example.org`).
 */
export interface AuthorLookup {
  readonly addresses?: Readonly<Record<string, string>>;
  readonly domain?: string;
}

export interface MailReporterOptions {
  /** Default 'mail'; names the durable cursor. */
  readonly name?: string;
  readonly from: string;
  readonly smtp: SmtpOptions;
  /** Always mailed. */
  readonly to?: readonly string[];
  /** Mail the authors of the blamelist's changes too; default true. */
  readonly toBlamelist?: boolean;
  readonly lookup?: AuthorLookup;
  readonly template?: Partial<MailTemplate>;
}

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;
const TAIL_LINES = 20;
const LISTED_CHANGES = 10;

/** The author's address: their own, the lookup's, or their name at the configured domain. */
export function authorAddress(change: ReportChange, lookup: AuthorLookup = {}): string | null {
  if (change.email) return change.email;
  const author = change.author.trim();
  const name = author.replace(/\s*<[^>]*>\s*$/, '').trim();
  const mapped = lookup.addresses?.[author] ?? lookup.addresses?.[name];
  if (mapped) return mapped;
  if (lookup.domain && /^[\w.+-]+$/.test(name)) return `${name}@${lookup.domain}`;
  return null;
}

export function mailRecipients(report: Report, options: MailReporterOptions): string[] {
  const out = new Set<string>();
  if (report.kind === 'worker-missing') {
    for (const a of report.notify.length > 0 ? report.notify : (options.to ?? [])) out.add(a);
    return [...out];
  }
  for (const a of options.to ?? []) out.add(a);
  if (options.toBlamelist ?? true)
    for (const change of report.blamelist) {
      const address = authorAddress(change, options.lookup);
      if (address && ADDRESS.test(address)) out.add(address);
    }
  return [...out];
}

function changeLine(c: ReportChange): string {
  const rev = c.revision ? c.revision.slice(0, 12) : `change ${c.changeid}`;
  const title = c.comments.split('\n', 1)[0] ?? '';
  return `  ${rev} ${c.author}: ${title}${c.revlink ? ` (${c.revlink})` : ''}`;
}

export const defaultMailTemplate: MailTemplate = {
  subject: (report) => `[lathe] ${reportSummary(report)}`,
  text(report) {
    const lines: string[] = [reportSummary(report), ''];
    switch (report.kind) {
      case 'worker-missing':
        if (report.startFailure)
          lines.push(
            `The master could not start latent worker ${report.workerName} in ${report.startFailure.attempts} attempts; the last error:`,
            `  ${report.startFailure.error}`,
            '',
          );
        lines.push(
          `Worker ${report.workerName} is not connected.`,
          report.lastSeen === null
            ? 'It has not been seen since the master started.'
            : `Last seen: ${new Date(report.lastSeen * 1000).toISOString()}`,
        );
        break;
      case 'buildset-finished':
        lines.push(
          `Result: ${resultName(report.results)}`,
          report.reason ? `Reason: ${report.reason}` : '',
          'Builds:',
        );
        for (const b of report.builds)
          lines.push(`  ${b.builderName} #${b.number}: ${resultName(b.results)} ${b.url}`);
        break;
      case 'build-started':
      case 'build-finished': {
        const b = report.build;
        lines.push(`Builder: ${b.builderName}`, `Build: ${b.url}`);
        if (b.results !== null) lines.push(`Result: ${resultName(b.results)} (${b.stateString})`);
        if (report.kind === 'build-finished' && report.previousResults !== null)
          lines.push(`Previous build: ${resultName(report.previousResults)}`);
        if (b.branch || b.revision)
          lines.push(`Source: ${[b.repository, b.branch, b.revision].filter(Boolean).join(' ')}`);
        if (b.workerName) lines.push(`Worker: ${b.workerName}`);
        if (b.reason) lines.push(`Reason: ${b.reason}`);
        if (report.blamelist.length > 0) {
          lines.push('', `Changes since the last passing build (${report.blamelist.length}):`);
          for (const c of report.blamelist.slice(-LISTED_CHANGES)) lines.push(changeLine(c));
          if (report.blamelist.length > LISTED_CHANGES)
            lines.push(`  … and ${report.blamelist.length - LISTED_CHANGES} more`);
        }
        if (report.bisection) {
          const bis = report.bisection;
          lines.push('', `Bisection: ${bis.state}`);
          if (bis.firstBad) lines.push(`First bad change:`, changeLine(bis.firstBad));
          if (bis.evidence) lines.push(`  ${bis.evidence}`);
        }
        for (const step of report.failedSteps) {
          lines.push('', `Step ${step.name}: ${resultName(step.results)} (${step.stateString})`);
          for (const l of step.logTail.slice(-TAIL_LINES)) lines.push(`  | ${l}`);
        }
        break;
      }
    }
    return `${lines.filter((l, i) => l !== '' || lines[i - 1] !== '').join('\n')}\n`;
  },
};

/** A Message-ID made from the report's key: the same report re-sent is recognisably the same mail. */
export function messageId(key: string): string {
  return `<${key.replace(/[^A-Za-z0-9.-]/g, '.')}@lathe.reports>`;
}

interface SmtpError {
  readonly responseCode?: number;
  readonly command?: string;
}

export class MailReporter implements Reporter {
  readonly name: string;
  readonly #options: MailReporterOptions;
  readonly #template: MailTemplate;
  #transport: Transporter | null = null;

  constructor(options: MailReporterOptions) {
    this.name = options.name ?? 'mail';
    this.#options = options;
    this.#template = { ...defaultMailTemplate, ...options.template };
  }

  async start(context?: ReporterStartContext): Promise<void> {
    const smtp = this.#options.smtp;
    const security = smtp.security ?? 'starttls';
    let pass: string | undefined;
    if (smtp.passwordSecret !== undefined) {
      if (!context)
        throw new Error(`mail reporter ${this.name}: no secrets to read ${smtp.passwordSecret} from`);
      pass = await context.getSecret(smtp.passwordSecret);
    }
    const timeout = smtp.timeoutMs ?? 30_000;
    this.#transport = nodemailer.createTransport({
      // One connection kept open between mails: no handshake per report, and mails go out
      // one at a time, in order.
      pool: true,
      maxConnections: 1,
      host: smtp.host,
      port: smtp.port ?? (security === 'tls' ? 465 : security === 'starttls' ? 587 : 25),
      secure: security === 'tls',
      requireTLS: security === 'starttls',
      ignoreTLS: security === 'none',
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      ...(smtp.user !== undefined && { auth: { user: smtp.user, ...(pass !== undefined && { pass }) } }),
      ...(smtp.ca !== undefined && { tls: { ca: typeof smtp.ca === 'string' ? smtp.ca : [...smtp.ca] } }),
    });
  }

  /** The mail a report becomes (for previews and tests). */
  message(report: Report): MailMessage {
    return { subject: this.#template.subject(report), text: this.#template.text(report) };
  }

  async deliver(report: Report, context: { readonly log: ReporterStartContext['log'] }): Promise<void> {
    if (!this.#transport) await this.start();
    const to = mailRecipients(report, this.#options);
    if (to.length === 0) {
      context.log('info', `${report.key}: nobody to mail`);
      return;
    }
    const { subject, text } = this.message(report);
    try {
      await this.#transport!.sendMail({
        from: this.#options.from,
        to,
        subject,
        text,
        messageId: messageId(report.key),
        headers: { 'X-Lathe-Report-Key': report.key },
      });
    } catch (err) {
      const { responseCode, command } = err as SmtpError;
      // The server refused this mail itself (a recipient, the content): sending it again cannot help.
      if (responseCode !== undefined && responseCode >= 500 && (command === 'RCPT TO' || command === 'DATA'))
        throw new PermanentDeliveryError(`the SMTP server refused the mail: ${(err as Error).message}`, {
          cause: err,
        });
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.#transport?.close();
    this.#transport = null;
  }
}
