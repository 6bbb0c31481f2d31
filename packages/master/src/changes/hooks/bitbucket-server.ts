// Bitbucket Server / Data Center webhooks: `repo:refs_changed` (one change per updated
// branch or tag, its new head; the payload names no commit details) and `pr:opened` /
// `pr:from_ref_updated`, signed with HMAC-SHA256 in X-Hub-Signature (`sha256=…`).
import type { ChangeInput } from '../change-source.js';
import { MalformedPayloadError } from './errors.js';
import { Payload, splitRef } from './payload.js';
import { type HookProvider, header } from './provider.js';
import { verifyHmacSha256 } from './signature.js';

/** `KEY/slug` and the repository's browse URL without `/browse` (its clone-like address). */
function repositoryOf(repo: Payload): { project: string; url: string } {
  const project = `${repo.object('project').string('key')}/${repo.string('slug')}`;
  const links = repo.optionalObject('links');
  const self = links?.has('self') ? links.objects('self')[0]?.optionalString('href') : undefined;
  return { project, url: self?.replace(/\/browse$/, '') ?? project };
}

function actor(p: Payload): string {
  const name = p.optionalString('displayName') ?? p.string('name');
  const email = p.optionalString('emailAddress');
  return email ? `${name} <${email}>` : name;
}

function pushChanges(p: Payload, codebase: string): ChangeInput[] {
  const { project, url } = repositoryOf(p.object('repository'));
  const author = actor(p.object('actor'));
  const when = p.time('date');
  const out: ChangeInput[] = [];
  for (const change of p.objects('changes')) {
    if (change.string('type') === 'DELETE') continue;
    const target = splitRef(change.object('ref').string('id'));
    if (!target) continue;
    out.push({
      author,
      comments: '',
      revision: change.string('toHash'),
      when,
      branch: target.name,
      category: target.kind === 'tag' ? 'tag' : 'push',
      repository: url,
      project,
      codebase,
      files: [],
      properties: { event: 'repo:refs_changed', provider: 'bitbucketserver' },
    });
  }
  return out;
}

function pullRequestChanges(p: Payload, event: string, codebase: string): ChangeInput[] {
  const pr = p.object('pullRequest');
  const id = pr.number('id');
  const from = pr.object('fromRef');
  const to = pr.object('toRef');
  const { project, url } = repositoryOf(to.object('repository'));
  const self = pr.optionalObject('links')?.objects('self')[0]?.optionalString('href') ?? null;
  return [
    {
      author: actor(pr.object('author').object('user')),
      comments: `Bitbucket Pull Request #${id}: ${pr.string('title')}\n${pr.optionalString('description') ?? ''}`,
      revision: from.string('latestCommit'),
      revlink: self,
      when: p.time('date'),
      branch: `refs/pull-requests/${id}/merge`,
      category: 'pull',
      repository: url,
      project,
      codebase,
      files: [],
      properties: {
        event,
        provider: 'bitbucketserver',
        ...(self === null ? {} : { pullrequesturl: self }),
        basename: to.string('displayId'),
        headname: from.string('displayId'),
        number: id,
      },
    },
  ];
}

export const bitbucketServer: HookProvider = {
  name: 'bitbucketserver',
  authenticate(req, secret) {
    verifyHmacSha256(secret, req.body, req.headers['x-hub-signature'], 'X-Hub-Signature', 'sha256=');
  },
  changes(req, settings) {
    const event = header(req, 'x-event-key');
    if (event === undefined) throw new MalformedPayloadError('X-Event-Key', 'header is missing');
    if (event === 'repo:refs_changed') return pushChanges(Payload.parse(req.body), settings.codebase);
    if (event === 'pr:opened' || event === 'pr:from_ref_updated')
      return pullRequestChanges(Payload.parse(req.body), event, settings.codebase);
    return [];
  },
};
