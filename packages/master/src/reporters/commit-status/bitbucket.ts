// Bitbucket Cloud build statuses:
// `POST /2.0/repositories/{workspace}/{repo_slug}/commit/{sha}/statuses/build`.
// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-commit-statuses/
import { createHash } from 'node:crypto';
import { CANCELLED, EXCEPTION, FAILURE, RETRY, type Result } from '../../results.js';
import { jsonHeaders } from '../http/reporter.js';
import { apiUrl, parseUrl } from '../http/send.js';
import type { DeliveryContext } from '../report.js';
import { type CommitStatus, type CommitStatusOptions, CommitStatusReporter, pathOf } from './common.js';

export type BitbucketState = 'INPROGRESS' | 'SUCCESSFUL' | 'FAILED' | 'STOPPED';

export interface BitbucketStatusOptions extends CommitStatusOptions {
  /**
   * With an app password: the account's user name (the token is then the app password, sent
   * as basic auth). Without: the token is an access token (repository, project or workspace),
   * sent as a bearer token.
   */
  readonly username?: string;
}

// Bitbucket's limit for a status key.
const KEY_CHARS = 40;

/** `baseUrl`: the API's root, default https://api.bitbucket.org. */
export class BitbucketStatusReporter extends CommitStatusReporter {
  protected readonly forge = 'Bitbucket';
  readonly #username: string | undefined;

  constructor(options: BitbucketStatusOptions) {
    super('bitbucket-status', options);
    this.#username = options.username;
  }

  protected async post(status: CommitStatus, token: string, context: DeliveryContext): Promise<void> {
    const [workspace, repo] = status.repository as [string, string];
    const base = parseUrl(this.options.baseUrl ?? 'https://api.bitbucket.org', 'Bitbucket API URL');
    const url = apiUrl(
      base,
      `/2.0/repositories${pathOf(workspace, repo)}/commit${pathOf(status.sha)}/statuses/build`,
    );
    const body = JSON.stringify({
      key: bitbucketKey(status.context),
      state: bitbucketState(status.results),
      name: status.context,
      url: status.build.url,
      description: status.description,
      ...(status.build.branch ? { refname: status.build.branch } : {}),
    });
    const basic = this.#username && Buffer.from(`${this.#username}:${token}`).toString('base64');
    const headers = jsonHeaders({ authorization: basic ? `Basic ${basic}` : `Bearer ${token}` });
    await this.send({ method: 'POST', url, headers, body }, context, `Bitbucket POST ${url.pathname}`, [
      token,
      ...(basic ? [basic] : []),
    ]);
  }
}

/** The context itself when it fits Bitbucket's key, else its SHA-1 (stable, 40 hex digits). */
export function bitbucketKey(context: string): string {
  return context.length <= KEY_CHARS ? context : createHash('sha1').update(context).digest('hex');
}

export function bitbucketState(results: Result | null): BitbucketState {
  if (results == null || results === RETRY) return 'INPROGRESS';
  if (results === FAILURE || results === EXCEPTION) return 'FAILED';
  if (results === CANCELLED) return 'STOPPED';
  return 'SUCCESSFUL'; // success, warnings, skipped
}
