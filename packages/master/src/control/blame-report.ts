// The blame part of a failed build's report: who and what changed since the last passing
// build, suspects (changes whose files the failing step's output names) first, and what
// the bisection found so far.
import { failingStepOutput } from '../bisect/failing-output.js';
import { rankSuspects } from '../bisect/rank.js';
import type { DataLayer } from '../data/index.js';
import type { BlamedChange, BlameReport } from './protocol.js';

/** Changes listed in a report; the rest are counted (the data API lists them all). */
export const BLAME_LINES = 10;

export async function blameReport(data: DataLayer, buildid: number): Promise<BlameReport | null> {
  const blamelist = await data.blame.blamelist(buildid);
  if (!blamelist || blamelist.changes.length === 0) return null;
  const suspects = rankSuspects(blamelist.changes, await failingStepOutput(data, buildid));
  const rank = new Map(suspects.map((s, i) => [s.changeid, i]));
  const ordered = [...blamelist.changes].sort(
    (a, b) => (rank.get(a.id) ?? Infinity) - (rank.get(b.id) ?? Infinity) || b.id - a.id,
  );
  const changes: BlamedChange[] = ordered.slice(0, BLAME_LINES).map((c) => ({
    changeid: c.id,
    revision: c.revision,
    author: c.author,
    title: c.comments.split('\n', 1)[0] ?? '',
    suspectFiles: suspects.find((s) => s.changeid === c.id)?.files ?? [],
  }));
  const since = blamelist.since && (await data.builds.get(blamelist.since.buildid));
  const bisection = await data.bisections.get(buildid);
  return {
    sinceNumber: since ? since.number : null,
    changeCount: blamelist.changes.length,
    changes,
    bisection: bisection ? { state: bisection.state, summary: bisection.summary } : null,
  };
}

/** Report lines, indented as `lathe force` prints the rest of a failed build. */
export function formatBlame(blame: BlameReport): string[] {
  const since = blame.sinceNumber === null ? 'no earlier passing build' : `since build #${blame.sinceNumber}`;
  const lines = [`  blamelist: ${blame.changeCount} change(s), ${since}:`];
  for (const c of blame.changes) {
    const rev = c.revision === null ? '' : ` ${c.revision.slice(0, 12)}`;
    const suspect = c.suspectFiles.length > 0 ? ` [suspect: output names ${c.suspectFiles.join(', ')}]` : '';
    lines.push(`    change ${c.changeid}${rev} by ${c.author}: ${c.title}${suspect}`);
  }
  if (blame.changeCount > blame.changes.length)
    lines.push(
      `    … and ${blame.changeCount - blame.changes.length} more (data API: /builds/<id>/blamelist)`,
    );
  if (blame.bisection) lines.push(`  bisection (${blame.bisection.state}): ${blame.bisection.summary}`);
  return lines;
}
