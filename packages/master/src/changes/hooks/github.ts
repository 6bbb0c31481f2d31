// GitHub webhooks: `push` and `pull_request` (opened, reopened, synchronize), signed with
// HMAC-SHA256 in X-Hub-Signature-256; JSON or form-encoded (`payload=`) bodies.
import type { ChangeInput } from '../change-source.js';
import { MalformedPayloadError } from './errors.js';
import { pushChanges } from './github-style.js';
import { Payload } from './payload.js';
import { type HookProvider, type HookRequest, type HookSettings, header } from './provider.js';
import { verifyHmacSha256 } from './signature.js';

const PR_ACTIONS = new Set(['opened', 'reopened', 'synchronize']);

function body(req: HookRequest): Payload {
  const type = header(req, 'content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) return Payload.parse(req.body);
  const json = new URLSearchParams(req.body.toString('utf8')).get('payload');
  if (json === null) throw new MalformedPayloadError('payload', 'form field is missing');
  return Payload.parse(Buffer.from(json));
}

function pullRequestChanges(p: Payload, codebase: string): ChangeInput[] {
  if (!PR_ACTIONS.has(p.string('action'))) return [];
  const number = p.number('number');
  const pr = p.object('pull_request');
  const head = pr.object('head');
  const base = pr.object('base');
  const commits = pr.has('commits') ? pr.number('commits') : 1;
  const html = pr.string('html_url');
  return [
    {
      author: p.object('sender').string('login'),
      comments: `GitHub Pull Request #${number} (${commits} commit${commits === 1 ? '' : 's'})\n${pr.string('title')}\n${pr.optionalString('body') ?? ''}`,
      revision: head.string('sha'),
      revlink: html,
      when: pr.time('updated_at'),
      branch: `refs/pull/${number}/merge`,
      category: 'pull',
      repository: p.object('repository').string('html_url'),
      project: base.object('repo').string('full_name'),
      codebase,
      files: [],
      properties: {
        event: 'pull_request',
        provider: 'github',
        pullrequesturl: html,
        basename: base.string('ref'),
        headname: head.string('ref'),
        number,
      },
    },
  ];
}

export const github: HookProvider = {
  name: 'github',
  authenticate(req, secret) {
    verifyHmacSha256(secret, req.body, req.headers['x-hub-signature-256'], 'X-Hub-Signature-256', 'sha256=');
  },
  changes(req: HookRequest, settings: HookSettings) {
    const event = header(req, 'x-github-event');
    if (event === undefined) throw new MalformedPayloadError('X-GitHub-Event', 'header is missing');
    if (event === 'push') return pushChanges(body(req), settings.codebase, 'github');
    if (event === 'pull_request') return pullRequestChanges(body(req), settings.codebase);
    return []; // ping and the rest: acknowledged, nothing to build
  },
};
