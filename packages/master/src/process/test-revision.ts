// The revision a build's tests ran against, as the per-test history compares it: a pass and
// a failure of the same test on the same revision make the failure a flake. The checked-out
// revision (`got_revision`, set by source steps) wins over the requested one; a patched
// source (a try job) or one without a revision gives null, which never matches anything.

export interface BuiltSource {
  readonly codebase: string;
  readonly revision: string | null;
  readonly hasPatch: boolean;
}

export function testRevision(gotRevision: unknown, sources: readonly BuiltSource[]): string | null {
  if (sources.some((s) => s.hasPatch)) return null;
  if (typeof gotRevision === 'string' && gotRevision !== '') return gotRevision;
  if (gotRevision && typeof gotRevision === 'object' && !Array.isArray(gotRevision)) {
    // Several codebases: got_revision is { codebase: revision }.
    const entries = Object.entries(gotRevision).filter(([, v]) => typeof v === 'string' && v !== '');
    if (entries.length > 0) return key(entries as [string, string][]);
  }
  if (sources.length === 0 || sources.some((s) => s.revision === null)) return null;
  return sources.length === 1 ? sources[0]!.revision : key(sources.map((s) => [s.codebase, s.revision!]));
}

function key(pairs: [string, string][]): string {
  return pairs
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([codebase, rev]) => `${codebase}:${rev}`)
    .join(' ');
}
