// The change dictionary `buildbot sendchange` (and `lathe sendchange`) sends to
// `perspective_addChange`, turned into a ChangeInput. Old names (`who`, `when`) are
// accepted as Buildbot does, text may arrive as bytes (decoded as UTF-8), and empty
// optional fields mean "none". Anything else malformed is refused with the field named:
// a change source is reachable from the network, so nothing is taken on trust.
import { PBError, PyFloat } from '@lathe/pb';
import type { ChangeInput } from './change-source.js';

export class BadChangeError extends PBError {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`bad change: ${field} ${problem}`);
  }
}

// Generous, but a change is stored whole: one sendchange must not fill the database.
const MAX_TEXT = 64 * 1024;
const MAX_COMMENTS = 1024 * 1024;
const MAX_FILES = 10_000;

/**
 * Text a Python PB peer sent as str or bytes (Python 3 clients send some fields as bytes),
 * at most `max` characters; `fail` names what is wrong with it. Null and absent are undefined.
 */
export function pbText(value: unknown, max: number, fail: (problem: string) => Error): string | undefined {
  if (value === undefined || value === null) return undefined;
  const s =
    typeof value === 'string'
      ? value
      : value instanceof Uint8Array
        ? Buffer.from(value).toString('utf8')
        : undefined;
  if (s === undefined) throw fail(`must be text, got ${typeof value}`);
  if (s.length > max) throw fail(`is longer than ${max} characters`);
  return s;
}

function text(value: unknown, field: string, max = MAX_TEXT): string | undefined {
  return pbText(value, max, (problem) => new BadChangeError(field, problem));
}

function timestamp(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = value instanceof PyFloat ? value.value : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
    throw new BadChangeError('when', 'must be a non-negative number of seconds since the epoch');
  return Math.floor(n);
}

function fileList(value: unknown, prefix: string | null): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new BadChangeError('files', 'must be a list');
  if (value.length > MAX_FILES) throw new BadChangeError('files', `lists more than ${MAX_FILES} files`);
  const files: string[] = [];
  value.forEach((f, i) => {
    const path = text(f, `files[${i}]`) ?? '';
    // With a prefix, files outside it are not ours and are dropped (Buildbot's rule).
    if (prefix === null) files.push(path);
    else if (path.startsWith(prefix)) files.push(path.slice(prefix.length));
  });
  return files;
}

function propertyRecord(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof Map)
    throw new BadChangeError('properties', 'must be a dictionary with text keys');
  // Property values must survive JSON storage; PB values that do not are refused here.
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (JSON.stringify(v) === undefined) throw new BadChangeError(`properties.${k}`, 'cannot be stored');
    out[k] = v instanceof PyFloat ? v.value : v;
  }
  if (JSON.stringify(out).length > MAX_TEXT)
    throw new BadChangeError('properties', `are larger than ${MAX_TEXT} bytes`);
  return out;
}

/** `prefix`: only files under it belong to this source, and it is removed from their paths. */
export function changeFromPB(dict: unknown, prefix: string | null = null): ChangeInput {
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict) || dict instanceof Map)
    throw new BadChangeError('change', 'must be a dictionary with text keys');
  const d = dict as Record<string, unknown>;
  const author = text(d.author ?? d.who, 'who');
  if (!author) throw new BadChangeError('who', 'is required (the author of the change)');
  const when = timestamp(d.when_timestamp ?? d.when);
  const committer = text(d.committer, 'committer');
  const branch = text(d.branch, 'branch');
  const revision = text(d.revision, 'revision');
  const category = text(d.category, 'category');
  const codebase = text(d.codebase, 'codebase');
  return {
    author,
    committer: committer || null,
    comments: text(d.comments, 'comments', MAX_COMMENTS) ?? '',
    branch: branch ?? null,
    revision: revision ?? null,
    revlink: text(d.revlink, 'revlink') || null,
    category: category ?? null,
    repository: text(d.repository, 'repository') ?? '',
    project: text(d.project, 'project') ?? '',
    ...(codebase ? { codebase } : {}),
    ...(when === undefined ? {} : { when }),
    files: fileList(d.files, prefix),
    properties: propertyRecord(d.properties),
  };
}
