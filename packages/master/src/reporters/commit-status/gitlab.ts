// GitLab commit statuses: `POST /api/v4/projects/:id/statuses/:sha`, the project addressed
// by its URL-encoded full path (nested groups included) or numeric id.
// A started build is `running` (GitLab has the state; `pending` would read as queued).
// https://docs.gitlab.com/ee/api/commits.html#set-the-pipeline-status-of-a-commit
import { CANCELLED, EXCEPTION, FAILURE, RETRY, type Result, SKIPPED } from '../../results.js';
import { PermanentHttpError } from '../http/errors.js';
import { jsonHeaders } from '../http/reporter.js';
import { apiUrl, parseUrl } from '../http/send.js';
import type { DeliveryContext } from '../report.js';
import { type CommitStatus, type CommitStatusOptions, CommitStatusReporter, pathOf } from './common.js';

export type GitLabState = 'pending' | 'running' | 'success' | 'failed' | 'canceled' | 'skipped';

/** `baseUrl`: the instance's URL, default https://gitlab.com (the API is under /api/v4). */
export class GitLabStatusReporter extends CommitStatusReporter {
  protected readonly forge = 'GitLab';
  protected override readonly wholePath = true;

  constructor(options: CommitStatusOptions) {
    super('gitlab-status', options);
  }

  protected async post(status: CommitStatus, token: string, context: DeliveryContext): Promise<void> {
    const base = parseUrl(this.options.baseUrl ?? 'https://gitlab.com', 'GitLab URL');
    const project = status.repository.join('/');
    const url = apiUrl(base, `/api/v4/projects${pathOf(project)}/statuses${pathOf(status.sha)}`);
    const state = gitlabState(status.results);
    const body = JSON.stringify({
      state,
      name: status.context,
      target_url: status.build.url,
      description: status.description,
      ...(status.build.branch ? { ref: status.build.branch } : {}),
    });
    const headers = jsonHeaders({ 'private-token': token });
    try {
      await this.send({ method: 'POST', url, headers, body }, context, `GitLab POST ${url.pathname}`, [
        token,
      ]);
    } catch (e) {
      // GitLab refuses to set a state the commit status already has (a redelivered report):
      // the status is what it should be, so the delivery is done.
      if (
        e instanceof PermanentHttpError &&
        e.status === 400 &&
        /Cannot transition status/i.test(e.responseText)
      ) {
        context.log('info', `GitLab status ${status.context} of ${status.sha} is already ${state} or later`);
        return;
      }
      throw e;
    }
  }
}

export function gitlabState(results: Result | null): GitLabState {
  if (results == null) return 'running';
  if (results === RETRY) return 'pending';
  if (results === FAILURE || results === EXCEPTION) return 'failed';
  if (results === CANCELLED) return 'canceled';
  if (results === SKIPPED) return 'skipped';
  return 'success'; // success, warnings
}
