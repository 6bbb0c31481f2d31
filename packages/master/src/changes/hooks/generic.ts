// Lathe's own JSON hook, for scripts and systems without a provider module: the body is a
// change or `{ "changes": [...] }` with the fields of a change (author required; when in
// epoch seconds), signed like GitHub's: `X-Lathe-Signature-256: sha256=<hex HMAC-SHA256>`.
import type { ChangeInput } from '../change-source.js';
import { MalformedPayloadError } from './errors.js';
import { Payload } from './payload.js';
import type { HookProvider } from './provider.js';
import { verifyHmacSha256 } from './signature.js';

const TEXT_FIELDS = [
  'committer',
  'comments',
  'branch',
  'revision',
  'revlink',
  'category',
  'repository',
  'project',
  'codebase',
] as const;
const KNOWN = new Set<string>(['author', 'when', 'files', 'properties', ...TEXT_FIELDS]);

function change(c: Payload, codebase: string): ChangeInput {
  const out: Record<string, unknown> = { author: c.string('author'), codebase };
  for (const field of TEXT_FIELDS) if (c.has(field)) out[field] = c.string(field);
  if (c.has('when')) out.when = c.number('when');
  out.files = c.strings('files');
  if (c.has('properties')) out.properties = c.object('properties').record();
  return out as unknown as ChangeInput;
}

export const generic: HookProvider = {
  name: 'generic',
  authenticate(req, secret) {
    verifyHmacSha256(
      secret,
      req.body,
      req.headers['x-lathe-signature-256'],
      'X-Lathe-Signature-256',
      'sha256=',
    );
  },
  changes(req, settings) {
    const body = Payload.parse(req.body);
    const list = body.has('changes') ? body.objects('changes') : [body];
    for (const c of list)
      for (const key of c.keys())
        if (!KNOWN.has(key))
          throw new MalformedPayloadError(`${c.path}.${key}`, 'is not a field of a change');
    return list.map((c) => change(c, settings.codebase));
  },
};
