// Bitbucket Cloud webhooks: `repo:push` (one change per updated branch or tag, its new
// head) and `pullrequest:created` / `pullrequest:updated`, signed with HMAC-SHA256 in
// X-Hub-Signature (`sha256=…`).
import type { ChangeInput } from '../change-source.js';
import { MalformedPayloadError } from './errors.js';
import { Payload } from './payload.js';
import { type HookProvider, header } from './provider.js';
import { verifyHmacSha256 } from './signature.js';

const htmlLink = (p: Payload) => p.object('links').object('html').string('href');

function pushChanges(p: Payload, codebase: string): ChangeInput[] {
  const repo = p.object('repository');
  const out: ChangeInput[] = [];
  for (const change of p.object('push').objects('changes')) {
    const updated = change.optionalObject('new');
    if (!updated) continue; // a deleted branch or tag
    const kind = updated.string('type');
    if (kind !== 'branch' && kind !== 'tag') continue;
    const head = updated.object('target');
    out.push({
      author: head.object('author').string('raw'),
      comments: head.optionalString('message') ?? '',
      revision: head.string('hash'),
      revlink: head.has('links') ? htmlLink(head) : null,
      when: head.time('date'),
      branch: updated.string('name'),
      category: kind === 'tag' ? 'tag' : 'push',
      repository: htmlLink(repo),
      project: repo.string('full_name'),
      codebase,
      files: [],
      properties: { event: 'repo:push', provider: 'bitbucketcloud' },
    });
  }
  return out;
}

function pullRequestChanges(p: Payload, event: string, codebase: string): ChangeInput[] {
  const pr = p.object('pullrequest');
  const id = pr.number('id');
  const source = pr.object('source');
  const destination = pr.object('destination');
  const html = htmlLink(pr);
  return [
    {
      author: pr.object('author').string('display_name'),
      comments: `Bitbucket Pull Request #${id}: ${pr.string('title')}\n${pr.optionalString('description') ?? ''}`,
      revision: source.object('commit').string('hash'),
      revlink: html,
      when: pr.time('updated_on'),
      branch: `refs/pull-requests/${id}/merge`,
      category: 'pull',
      repository: htmlLink(destination.object('repository')),
      project: destination.object('repository').string('full_name'),
      codebase,
      files: [],
      properties: {
        event,
        provider: 'bitbucketcloud',
        pullrequesturl: html,
        basename: destination.object('branch').string('name'),
        headname: source.object('branch').string('name'),
        head_repository: htmlLink(source.object('repository')),
        number: id,
      },
    },
  ];
}

export const bitbucketCloud: HookProvider = {
  name: 'bitbucketcloud',
  authenticate(req, secret) {
    verifyHmacSha256(secret, req.body, req.headers['x-hub-signature'], 'X-Hub-Signature', 'sha256=');
  },
  changes(req, settings) {
    const event = header(req, 'x-event-key');
    if (event === undefined) throw new MalformedPayloadError('X-Event-Key', 'header is missing');
    if (event === 'repo:push') return pushChanges(Payload.parse(req.body), settings.codebase);
    if (event === 'pullrequest:created' || event === 'pullrequest:updated')
      return pullRequestChanges(Payload.parse(req.body), event, settings.codebase);
    return [];
  },
};
