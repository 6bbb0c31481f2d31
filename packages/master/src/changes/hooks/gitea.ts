// Gitea and Forgejo webhooks: `push` (GitHub's format) and `pull_request` (opened,
// reopened, synchronized), signed with bare-hex HMAC-SHA256 in X-Gitea-Signature (Forgejo
// also sends it; X-Forgejo-Signature is taken when it is alone).
import type { ChangeInput } from '../change-source.js';
import { MalformedPayloadError } from './errors.js';
import { pushChanges } from './github-style.js';
import { Payload } from './payload.js';
import { type HookProvider, header } from './provider.js';
import { verifyHmacSha256 } from './signature.js';

const PR_ACTIONS = new Set(['opened', 'reopened', 'synchronized']);

function pullRequestChanges(p: Payload, codebase: string): ChangeInput[] {
  if (!PR_ACTIONS.has(p.string('action'))) return [];
  const number = p.number('number');
  const pr = p.object('pull_request');
  const head = pr.object('head');
  const base = pr.object('base');
  const html = pr.string('html_url');
  return [
    {
      author: pr.object('user').string('login'),
      comments: `Pull Request #${number}: ${pr.string('title')}\n${pr.optionalString('body') ?? ''}`,
      revision: head.string('sha'),
      revlink: html,
      when: pr.time('updated_at'),
      branch: `refs/pull/${number}/head`,
      category: 'pull',
      repository: base.object('repo').string('html_url'),
      project: base.object('repo').string('full_name'),
      codebase,
      files: [],
      properties: {
        event: 'pull_request',
        provider: 'gitea',
        pullrequesturl: html,
        basename: base.string('ref'),
        headname: head.string('ref'),
        number,
        ...(head.has('repo') ? { head_repository: head.object('repo').string('clone_url') } : {}),
      },
    },
  ];
}

export const gitea: HookProvider = {
  name: 'gitea',
  authenticate(req, secret) {
    const gitea = req.headers['x-gitea-signature'];
    const [value, name] =
      gitea === undefined && req.headers['x-forgejo-signature'] !== undefined
        ? [req.headers['x-forgejo-signature'], 'X-Forgejo-Signature']
        : [gitea, 'X-Gitea-Signature'];
    verifyHmacSha256(secret, req.body, value, name, '');
  },
  changes(req, settings) {
    const event = header(req, 'x-gitea-event') ?? header(req, 'x-forgejo-event');
    if (event === undefined) throw new MalformedPayloadError('X-Gitea-Event', 'header is missing');
    if (event === 'push') return pushChanges(Payload.parse(req.body), settings.codebase, 'gitea');
    if (event === 'pull_request') return pullRequestChanges(Payload.parse(req.body), settings.codebase);
    return [];
  },
};
