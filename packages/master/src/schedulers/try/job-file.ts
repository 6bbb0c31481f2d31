// The job files of Buildbot's Try_Jobdir: what `buildbot try --connect=ssh` hands to
// `buildbot tryserver`, which drops it into the job directory. A file is a run of
// netstrings (`<length>:<bytes>,`): first the format version, then
//   1-4: jobid, branch, baserev, patch level, patch body [, repository, project (2)]
//        [, who (3)] [, comment (4)], then one netstring per builder name;
//   5:   one JSON object with those fields plus builderNames and properties, the patch
//        body as text (`patch_body`);
//   6:   the same with the body base64-encoded (`patch_body_base64`), for patches that are
//        not UTF-8.
// Buildbot 3.7's client writes 5 or 6. Job files come from users: every field is checked.
import { BadTryJobError, type TryJob } from './job.js';

/** Buildbot's default limit on a job file (Twisted's NetstringReceiver.MAX_LENGTH). */
export const MAX_JOB_FILE_BYTES = 99_999;

export function parseNetstrings(data: Buffer): Buffer[] {
  const strings: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const colon = data.indexOf(0x3a, at);
    const digits = colon < 0 ? '' : data.subarray(at, colon).toString('latin1');
    if (!/^\d{1,9}$/.test(digits)) throw new BadTryJobError(`not a netstring at byte ${at}`);
    const start = colon + 1;
    const end = start + Number(digits);
    if (end >= data.length || data[end] !== 0x2c)
      throw new BadTryJobError(`netstring at byte ${at} is cut short or lacks its closing comma`);
    strings.push(data.subarray(start, end));
    at = end + 1;
  }
  if (strings.length === 0) throw new BadTryJobError('the job file holds no netstrings');
  return strings;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(b: Buffer, field: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new BadTryJobError(`${field} is not UTF-8 text`);
  }
}

function patchLevel(value: unknown): number {
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 100)
    throw new BadTryJobError(
      `patch_level must be a small non-negative integer, got ${JSON.stringify(value)}`,
    );
  return n;
}

const OLD_FIELDS = [
  'jobid',
  'branch',
  'baserev',
  'patch_level',
  'patch_body',
  'repository',
  'project',
  'who',
  'comment',
];
/** How many of OLD_FIELDS each old version has. */
const OLD_FIELD_COUNT: Record<string, number> = { '1': 5, '2': 7, '3': 8, '4': 9 };

export function parseJobFile(data: Buffer): TryJob {
  if (data.length > MAX_JOB_FILE_BYTES)
    throw new BadTryJobError(`the job file is larger than ${MAX_JOB_FILE_BYTES} bytes`);
  const [versionBytes, ...rest] = parseNetstrings(data);
  const version = text(versionBytes!, 'the version');
  const count = OLD_FIELD_COUNT[version];
  if (count !== undefined) return oldJob(rest, count);
  if (version === '5' || version === '6') return jsonJob(rest[0], version);
  throw new BadTryJobError(`unknown job file version ${JSON.stringify(version.slice(0, 20))}`);
}

function oldJob(strings: Buffer[], count: number): TryJob {
  if (strings.length < count) throw new BadTryJobError(`expected ${count} fields, got ${strings.length}`);
  const f: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const name = OLD_FIELDS[i]!;
    if (name !== 'patch_body') f[name] = text(strings[i]!, name);
  }
  return {
    jobid: f.jobid ?? null,
    branch: f.branch || null,
    baserev: f.baserev || null,
    patchLevel: patchLevel(f.patch_level),
    patchBody: Buffer.from(strings[4]!),
    repository: f.repository ?? '',
    project: f.project ?? '',
    who: f.who ?? '',
    comment: f.comment ?? '',
    builderNames: strings.slice(count).map((b, i) => text(b, `builder name ${i}`)),
    properties: {},
  };
}

function optionalText(job: Record<string, unknown>, field: string): string {
  const v = job[field];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new BadTryJobError(`${field} must be text`);
  return v;
}

function jsonJob(body: Buffer | undefined, version: '5' | '6'): TryJob {
  if (!body) throw new BadTryJobError('the job file has no job after its version');
  let job: unknown;
  try {
    job = JSON.parse(text(body, 'the job'));
  } catch (err) {
    if (err instanceof BadTryJobError) throw err;
    throw new BadTryJobError(`the job is not JSON: ${(err as Error).message}`);
  }
  if (typeof job !== 'object' || job === null || Array.isArray(job))
    throw new BadTryJobError('the job must be a JSON object');
  const j = job as Record<string, unknown>;
  let patchBody: Buffer;
  if (version === '5') {
    if (typeof j.patch_body !== 'string') throw new BadTryJobError('patch_body must be text');
    patchBody = Buffer.from(j.patch_body, 'utf8');
  } else {
    const b64 = j.patch_body_base64;
    if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64))
      throw new BadTryJobError('patch_body_base64 must be base64 text');
    patchBody = Buffer.from(b64, 'base64');
  }
  const builders = j.builderNames ?? [];
  if (!Array.isArray(builders) || !builders.every((b) => typeof b === 'string'))
    throw new BadTryJobError('builderNames must be a list of names');
  const properties = j.properties ?? {};
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties))
    throw new BadTryJobError('properties must be an object');
  return {
    jobid: optionalText(j, 'jobid') || null,
    branch: optionalText(j, 'branch') || null,
    baserev: optionalText(j, 'baserev') || null,
    patchLevel: patchLevel(j.patch_level),
    patchBody,
    repository: optionalText(j, 'repository'),
    project: optionalText(j, 'project'),
    who: optionalText(j, 'who'),
    comment: optionalText(j, 'comment'),
    builderNames: builders as string[],
    properties: properties as Record<string, unknown>,
  };
}
