// A configuration problem, with where it is. One error can carry several issues so that a
// user fixes everything in one round instead of one problem per restart.
import type { SourceLocation } from './types.js';

export interface ConfigIssue {
  /** Which setting, e.g. `builders['linux'].workerNames[1]`; empty for the file itself. */
  readonly path: string;
  readonly message: string;
  readonly location?: SourceLocation;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.location
    ? `${issue.location.file}:${issue.location.line}${issue.location.column ? `:${issue.location.column}` : ''}: `
    : '';
  return `${where}${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
    options?: { cause?: unknown },
  ) {
    super(
      `configuration ${file} is not usable:\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`,
      options,
    );
  }
}
