// Buildbot's default rule for collapsing build requests: two pending requests of one
// builder are interchangeable when they build the same codebases from the same repository,
// branch and project, carry no patch, and either both come from changes or both name the
// same revision. The newer request's build then stands for the older ones.
import type { PendingRequest, SourceSummary } from '../data/buildrequests.js';

export function defaultCollapsible(older: PendingRequest, newer: PendingRequest): boolean {
  if (older.buildsetid === newer.buildsetid) return true;
  if (newer.id < older.id) return false;
  const a = byCodebase(older.sources);
  const b = byCodebase(newer.sources);
  if (a.size !== b.size) return false;
  for (const [codebase, sa] of a) {
    const sb = b.get(codebase);
    if (!sb) return false;
    if (sa.repository !== sb.repository || sa.branch !== sb.branch || sa.project !== sb.project) return false;
    if (sa.hasPatch || sb.hasPatch) return false;
    if (sa.hasChanges && sb.hasChanges) continue;
    if (sa.hasChanges !== sb.hasChanges) return false;
    if (sa.revision !== sb.revision) return false;
  }
  return true;
}

function byCodebase(sources: readonly SourceSummary[]): Map<string, SourceSummary> {
  return new Map(sources.map((s) => [s.codebase, s]));
}
