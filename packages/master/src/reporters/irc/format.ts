// How a report reads on IRC: one line, the summary every chat reporter uses, the build's
// link and, when a build failed, who made the changes it is about.
import { EXCEPTION, FAILURE } from '../../results.js';
import { type Report, reportSummary } from '../report.js';

const MAX_BLAMED = 5;

const failed = (results: number | null) => results === FAILURE || results === EXCEPTION;

/** Blamelist authors without their mail addresses (`Jane Doe <jane@x>` → `Jane Doe`), each once. */
export function blamedAuthors(report: Report): string[] {
  if (report.kind !== 'build-finished' && report.kind !== 'buildset-finished') return [];
  const names = report.blamelist.map((c) => c.author.replace(/\s*<[^>]*>\s*$/, '').trim() || c.author);
  return [...new Set(names)];
}

/** The one line announced for a report. */
export function announcement(report: Report): string {
  const parts = [reportSummary(report)];
  if (report.kind === 'build-started' || report.kind === 'build-finished') parts.push(report.build.url);
  const results =
    report.kind === 'build-finished'
      ? report.build.results
      : report.kind === 'buildset-finished'
        ? report.results
        : null;
  if (failed(results)) {
    const authors = blamedAuthors(report);
    if (authors.length > 0) {
      const more = authors.length > MAX_BLAMED ? ` and ${authors.length - MAX_BLAMED} more` : '';
      parts.push(`blamelist: ${authors.slice(0, MAX_BLAMED).join(', ')}${more}`);
    }
  }
  // One IRC line: no control line breaks from a builder name or a branch.
  return parts.join(' — ').replace(/[\r\n\0]+/g, ' ');
}
