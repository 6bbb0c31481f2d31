// Gitea and Forgejo commit statuses: `POST /api/v1/repos/{owner}/{repo}/statuses/{sha}`.
// https://gitea.com/api/swagger#/repository/repoCreateStatus
import { CANCELLED, EXCEPTION, FAILURE, RETRY, type Result, WARNINGS } from '../../results.js';
import { jsonHeaders } from '../http/reporter.js';
import { apiUrl, parseUrl } from '../http/send.js';
import type { DeliveryContext } from '../report.js';
import { type CommitStatus, type CommitStatusOptions, CommitStatusReporter, pathOf } from './common.js';

export type GiteaState = 'pending' | 'success' | 'warning' | 'failure' | 'error';

export interface GiteaStatusOptions extends CommitStatusOptions {
  /** The instance's URL (e.g. https://codeberg.org, https://git.example.org); required. */
  readonly baseUrl: string;
}

export class GiteaStatusReporter extends CommitStatusReporter {
  protected readonly forge = 'Gitea';

  constructor(options: GiteaStatusOptions) {
    super('gitea-status', options);
  }

  protected async post(status: CommitStatus, token: string, context: DeliveryContext): Promise<void> {
    const [owner, repo] = status.repository as [string, string];
    const base = parseUrl(this.options.baseUrl!, 'Gitea URL');
    const url = apiUrl(base, `/api/v1/repos${pathOf(owner, repo)}/statuses${pathOf(status.sha)}`);
    const body = JSON.stringify({
      state: giteaState(status.results),
      target_url: status.build.url,
      description: status.description,
      context: status.context,
    });
    const headers = jsonHeaders({ accept: 'application/json', authorization: `token ${token}` });
    await this.send({ method: 'POST', url, headers, body }, context, `Gitea POST ${url.pathname}`, [token]);
  }
}

export function giteaState(results: Result | null): GiteaState {
  if (results == null || results === RETRY) return 'pending';
  if (results === WARNINGS) return 'warning';
  if (results === FAILURE) return 'failure';
  if (results === EXCEPTION || results === CANCELLED) return 'error';
  return 'success'; // success, skipped
}
