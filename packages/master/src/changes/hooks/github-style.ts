// The push payload GitHub defined and Gitea/Forgejo copied: one change per pushed commit
// (only the head commit for a newly created branch, so old history does not flood in).
import type { ChangeInput } from '../change-source.js';
import { type Payload, person, splitRef, ZERO_SHA } from './payload.js';

export function pushChanges(p: Payload, codebase: string, provider: string): ChangeInput[] {
  const target = splitRef(p.string('ref'));
  if (!target) return [];
  // A deleted branch or tag has nothing to build.
  if (p.boolean('deleted') || ZERO_SHA.test(p.optionalString('after') ?? '')) return [];
  const repo = p.object('repository');
  const head = p.optionalObject('head_commit');
  let commits = p.objects('commits');
  if ((p.boolean('created') || commits.length === 0) && head) commits = [head];
  return commits.map((c) => ({
    author: person(c.object('author')),
    committer: c.has('committer') ? person(c.object('committer')) : null,
    comments: c.string('message'),
    revision: c.string('id'),
    revlink: c.optionalString('url') ?? null,
    when: c.time('timestamp'),
    branch: target.name,
    category: target.kind === 'tag' ? 'tag' : 'push',
    repository: repo.string('html_url'),
    project: repo.string('full_name'),
    codebase,
    files: [...c.strings('added'), ...c.strings('modified'), ...c.strings('removed')],
    properties: { event: 'push', provider },
  }));
}
