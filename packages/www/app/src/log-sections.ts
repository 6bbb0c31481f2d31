// Collapsible sections of a log: `::group::name` … `::endgroup::` (the GitHub Actions
// markers many tools print), and `--- name` / `+++ name` headers (Buildkite's: a section
// runs to the next header; `---` starts folded, `+++` open). The server records the markers
// as the log is written and answers them in one read; only a log written before it did
// is searched for them (four searches of the whole log, so the viewer runs them after its
// first lines are on screen). A log is never downloaded to know its sections; the viewer
// then maps between log lines and the rows it shows with the folded sections' bodies left
// out.
import { logSectionMarkers, type SectionMarker, type SectionMarkerKind, searchLog } from './api';

export interface Section {
  /** The header line, which stays shown. */
  readonly start: number;
  /** The section's last line (`::endgroup::`, the line before the next header, or the log's last). */
  readonly end: number;
  /** Shown unfolded until the reader folds it (`+++`). */
  readonly open: boolean;
}

const HEADER = /^(?:::group::|--- |\+\+\+ )/;

/** A section's title: its header line without the marker. */
export function sectionTitle(header: string): string {
  return header.replace(HEADER, '').trim() || 'section';
}

/**
 * The markers the server recorded, or null for a log written before it recorded them
 * (`searchSectionMarkers` finds those).
 */
export async function recordedSectionMarkers(
  logid: number,
  signal: AbortSignal,
): Promise<readonly SectionMarker[] | null> {
  const { recorded, markers } = await logSectionMarkers(logid, signal);
  return recorded ? markers : null;
}

/** The markers of a log the server has none recorded for, by searching it. */
export async function searchSectionMarkers(logid: number, signal: AbortSignal): Promise<SectionMarker[]> {
  // At the start of a line only (after the stream letter of a stdio line): the worker's
  // header echoing a command that prints a marker is not a section.
  const patterns: [SectionMarkerKind, string][] = [
    ['group', '^[oe]?::group::'],
    ['endgroup', '^[oe]?::endgroup::'],
    ['folded', '^[oe]?--- '],
    ['unfolded', '^[oe]?\\+\\+\\+ '],
  ];
  const found = await Promise.all(
    patterns.map(async ([kind, pattern]) => {
      const { matches } = await searchLog(logid, pattern, { regex: true, signal });
      return matches.map((line) => ({ line, kind, title: '' }));
    }),
  );
  return found.flat();
}

/** The sections `markers` make in a log of `total` lines. */
export function sectionsOf(markers: readonly SectionMarker[], total: number): Section[] {
  const lines = (kind: SectionMarkerKind) => markers.filter((m) => m.kind === kind).map((m) => m.line);
  const starts = lines('group');
  const ends = lines('endgroup');
  const folded = lines('folded');
  const unfolded = lines('unfolded');
  const sections: Section[] = [];
  let open: number | undefined;
  const groupEvents = [
    ...starts.map((line) => ({ line, open: true })),
    ...ends.map((line) => ({ line, open: false })),
  ].sort((a, b) => a.line - b.line);
  // Groups do not nest in the markers' own definition: a new group closes the open one.
  for (const e of groupEvents) {
    if (e.open) {
      if (open !== undefined) sections.push({ start: open, end: e.line - 1, open: false });
      open = e.line;
    } else if (open !== undefined) {
      sections.push({ start: open, end: e.line, open: false });
      open = undefined;
    }
  }
  if (open !== undefined) sections.push({ start: open, end: Math.max(total - 1, open), open: false });
  // A `---`/`+++` section ends before the next header of either kind, or at the end of
  // the group it is in.
  const boundaries = [...starts, ...ends, ...folded, ...unfolded].sort((a, b) => a - b);
  const headers = [
    ...folded.map((line) => ({ line, open: false })),
    ...unfolded.map((line) => ({ line, open: true })),
  ].sort((a, b) => a.line - b.line);
  // Both in line order: one walk, not a scan of the boundaries per header.
  let next = 0;
  for (const h of headers) {
    while (next < boundaries.length && boundaries[next]! <= h.line) next++;
    sections.push({ start: h.line, end: (boundaries[next] ?? total) - 1, open: h.open });
  }
  return sections.filter((s) => s.end > s.start).sort((a, b) => a.start - b.start);
}

/** Rows ↔ lines with the bodies (start+1 … end) of the collapsed sections hidden. */
export class RowMap {
  readonly #hidden: readonly { from: number; to: number }[];

  constructor(
    readonly total: number,
    collapsed: readonly Section[],
  ) {
    // A folded section may lie inside another (a `---` section in a group): one range.
    const ranges = collapsed
      .map((s) => ({ from: s.start + 1, to: Math.min(s.end, total - 1) }))
      .filter((h) => h.to >= h.from)
      .sort((a, b) => a.from - b.from);
    const merged: { from: number; to: number }[] = [];
    for (const r of ranges) {
      const last = merged.at(-1);
      if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
      else merged.push({ ...r });
    }
    this.#hidden = merged;
  }

  get rows(): number {
    return this.total - this.#hidden.reduce((n, h) => n + h.to - h.from + 1, 0);
  }

  line(row: number): number {
    let line = row;
    for (const h of this.#hidden) {
      if (line < h.from) break;
      line += h.to - h.from + 1;
    }
    return line;
  }

  /** The row showing `line`: its section's header when the line is hidden. */
  row(line: number): number {
    let row = line;
    for (const h of this.#hidden) {
      if (line < h.from) break;
      if (line <= h.to) return h.from - 1 - (line - row);
      row -= h.to - h.from + 1;
    }
    return row;
  }
}
