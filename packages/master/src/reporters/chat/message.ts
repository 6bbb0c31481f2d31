// What a chat message says about a report, before each provider's markup: a title line
// (reportSummary), the link to the build, a tone for colours, and labelled fields — result,
// branch, revision, the blamelist's authors, the steps that failed. A config may replace
// `chatMessage` with its own `format` function on any chat reporter.
import { EXCEPTION, FAILURE, type Result, resultName, SUCCESS, WARNINGS } from '../../results.js';
import { type Report, type ReportBuild, type ReportChange, reportSummary } from '../report.js';

export type ChatTone = 'good' | 'warning' | 'bad' | 'neutral';

export interface ChatField {
  readonly name: string;
  readonly value: string;
}

export interface ChatMessage {
  readonly title: string;
  /** The build's page (a buildset's first build); null when the report has no build. */
  readonly url: string | null;
  readonly tone: ChatTone;
  readonly fields: readonly ChatField[];
}

export type ChatFormatter = (report: Report) => ChatMessage;

export function chatMessage(report: Report): ChatMessage {
  const title = reportSummary(report);
  switch (report.kind) {
    case 'build-started':
    case 'build-finished': {
      const b = report.build;
      const fields = [
        { name: 'Result', value: b.results == null ? 'started' : resultName(b.results) },
        ...sourceFields(b),
        { name: 'Blamelist', value: authors(report.blamelist) },
      ];
      if (report.failedSteps.length > 0)
        fields.push({ name: 'Failed steps', value: report.failedSteps.map((s) => s.name).join(', ') });
      return { title, url: b.url, tone: tone(b.results), fields };
    }
    case 'buildset-finished':
      return {
        title,
        url: report.builds[0]?.url ?? null,
        tone: tone(report.results),
        fields: [
          { name: 'Result', value: resultName(report.results) },
          {
            name: 'Builds',
            value: report.builds
              .map((b) => `${b.builderName} #${b.number}: ${resultName(b.results)}`)
              .join('\n'),
          },
          { name: 'Blamelist', value: authors(report.blamelist) },
        ],
      };
    case 'worker-missing':
      return {
        title,
        url: null,
        tone: 'bad',
        fields: [
          {
            name: 'Last seen',
            value: report.lastSeen == null ? 'never' : new Date(report.lastSeen * 1000).toISOString(),
          },
          ...(report.startFailure ? [{ name: 'Start error', value: report.startFailure.error }] : []),
        ],
      };
  }
}

function sourceFields(b: ReportBuild): ChatField[] {
  const fields: ChatField[] = [];
  if (b.branch) fields.push({ name: 'Branch', value: b.branch });
  if (b.revision) fields.push({ name: 'Revision', value: b.revision.slice(0, 12) });
  return fields;
}

/** The blamelist's distinct authors, by name: chat rooms are no place for mail addresses. */
function authors(changes: readonly ReportChange[]): string {
  const names = new Set(changes.map((c) => c.author.replace(/\s*<[^<>\s]+@[^<>\s]+>\s*$/, '') || c.author));
  return names.size === 0 ? 'none' : [...names].join(', ');
}

function tone(results: Result | null): ChatTone {
  if (results == null) return 'neutral';
  if (results === SUCCESS) return 'good';
  if (results === WARNINGS) return 'warning';
  return results === FAILURE || results === EXCEPTION ? 'bad' : 'neutral';
}

/** Plain text: the title, the link, then one `Name: value` line per field. */
export function plainText(message: ChatMessage): string {
  return [
    message.url ? `${message.title} — ${message.url}` : message.title,
    ...message.fields.map((f) => `${f.name}: ${f.value}`),
  ].join('\n');
}

/** Shortens to `max` characters, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
