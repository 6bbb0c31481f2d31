// GitHub (and GitHub Enterprise) commit statuses: `POST /repos/{owner}/{repo}/statuses/{sha}`.
// https://docs.github.com/en/rest/commits/statuses#create-a-commit-status
import { CANCELLED, EXCEPTION, FAILURE, RETRY, type Result } from '../../results.js';
import { jsonHeaders } from '../http/reporter.js';
import { apiUrl, parseUrl } from '../http/send.js';
import type { DeliveryContext } from '../report.js';
import { type CommitStatus, type CommitStatusOptions, CommitStatusReporter, pathOf } from './common.js';

export type GitHubState = 'pending' | 'success' | 'failure' | 'error';

/** `baseUrl`: the REST API's root, default https://api.github.com (Enterprise: https://host/api/v3). */
export class GitHubStatusReporter extends CommitStatusReporter {
  protected readonly forge = 'GitHub';

  constructor(options: CommitStatusOptions) {
    super('github-status', options);
  }

  protected async post(status: CommitStatus, token: string, context: DeliveryContext): Promise<void> {
    const [owner, repo] = status.repository as [string, string];
    const base = parseUrl(this.options.baseUrl ?? 'https://api.github.com', 'GitHub API URL');
    const url = apiUrl(base, `/repos${pathOf(owner, repo)}/statuses${pathOf(status.sha)}`);
    const body = JSON.stringify({
      state: githubState(status.results),
      target_url: status.build.url,
      description: status.description,
      context: status.context,
    });
    const headers = jsonHeaders({
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${token}`,
      'x-github-api-version': '2022-11-28',
    });
    await this.send({ method: 'POST', url, headers, body }, context, `GitHub POST ${url.pathname}`, [token]);
  }
}

export function githubState(results: Result | null): GitHubState {
  if (results == null || results === RETRY) return 'pending';
  if (results === FAILURE) return 'failure';
  if (results === EXCEPTION || results === CANCELLED) return 'error';
  return 'success'; // success, warnings, skipped
}
