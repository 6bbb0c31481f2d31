// GitLab webhooks: Push Hook, Tag Push Hook and Merge Request Hook (open, reopen, and an
// update that added commits), authenticated by the shared token in X-Gitlab-Token.
import type { ChangeInput } from '../change-source.js';
import { MalformedPayloadError } from './errors.js';
import { Payload, person, splitRef, ZERO_SHA } from './payload.js';
import { type HookProvider, header } from './provider.js';
import { verifyToken } from './signature.js';

function pushChanges(p: Payload, codebase: string): ChangeInput[] {
  const target = splitRef(p.string('ref'));
  if (!target || ZERO_SHA.test(p.string('after'))) return [];
  const project = p.object('project');
  const base = {
    branch: target.name,
    category: target.kind === 'tag' ? 'tag' : 'push',
    repository: project.string('git_http_url'),
    project: project.string('path_with_namespace'),
    codebase,
  };
  const commits = p.objects('commits');
  // A tag push (and a new branch without new commits) lists no commits: build the ref's head.
  if (commits.length === 0)
    return [
      {
        ...base,
        author: `${p.optionalString('user_name') ?? ''} <${p.optionalString('user_email') ?? ''}>`,
        comments: p.optionalString('message') ?? '',
        revision: p.optionalString('checkout_sha') ?? p.string('after'),
        files: [],
        properties: { event: 'push', provider: 'gitlab' },
      },
    ];
  return commits.map((c) => ({
    ...base,
    author: person(c.object('author')),
    comments: c.string('message'),
    revision: c.string('id'),
    revlink: c.optionalString('url') ?? null,
    when: c.time('timestamp'),
    files: [...c.strings('added'), ...c.strings('modified'), ...c.strings('removed')],
    properties: { event: 'push', provider: 'gitlab' },
  }));
}

function mergeRequestChanges(p: Payload, codebase: string): ChangeInput[] {
  const mr = p.object('object_attributes');
  const action = mr.optionalString('action') ?? '';
  if (['closed', 'merged'].includes(mr.string('state'))) return [];
  if (!(action === 'open' || action === 'reopen' || (action === 'update' && mr.has('oldrev')))) return [];
  const commit = mr.object('last_commit');
  const source = mr.object('source');
  const target = mr.object('target');
  const iid = mr.number('iid');
  return [
    {
      author: person(commit.object('author')),
      comments: `MR!${iid}: ${mr.string('title')}\n\n${mr.optionalString('description') ?? ''}`,
      revision: commit.string('id'),
      revlink: mr.optionalString('url') ?? null,
      when: commit.time('timestamp'),
      // As Buildbot: the target branch, with where the commits come from in properties.
      branch: mr.string('target_branch'),
      category: 'merge_request',
      repository: target.string('git_http_url'),
      project: target.string('path_with_namespace'),
      codebase,
      files: [],
      properties: {
        event: 'merge_request',
        provider: 'gitlab',
        source_branch: mr.string('source_branch'),
        source_repository: source.string('git_http_url'),
        target_branch: mr.string('target_branch'),
        target_repository: target.string('git_http_url'),
        number: iid,
      },
    },
  ];
}

export const gitlab: HookProvider = {
  name: 'gitlab',
  authenticate(req, secret) {
    verifyToken(secret, req.headers['x-gitlab-token'], 'X-Gitlab-Token');
  },
  changes(req, settings) {
    const event = header(req, 'x-gitlab-event');
    if (event === undefined) throw new MalformedPayloadError('X-Gitlab-Event', 'header is missing');
    if (event === 'Push Hook' || event === 'Tag Push Hook')
      return pushChanges(Payload.parse(req.body), settings.codebase);
    if (event === 'Merge Request Hook')
      return mergeRequestChanges(Payload.parse(req.body), settings.codebase);
    return [];
  },
};
