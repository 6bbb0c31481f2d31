// Collapsible sections of a log: `::group::name` … `::endgroup::` (the GitHub Actions
// markers many tools print), and `--- name` / `+++ name` headers (Buildkite's: a section
// runs to the next header; `---` starts folded, `+++` open). They are found by the
// server's search, so a log never has to be downloaded to know its sections; the viewer
// then maps between log lines and the rows it shows with the folded sections' bodies left
// out.
import { searchLog } from './api';

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

export async function findSections(logid: number, total: number): Promise<Section[]> {
  // At the start of a line only (after the stream letter of a stdio line): the worker's
  // header echoing a command that prints a marker is not a section.
  const [starts, ends, folded, unfolded] = await Promise.all([
    searchLog(logid, '^[oe]?::group::', { regex: true }),
    searchLog(logid, '^[oe]?::endgroup::', { regex: true }),
    searchLog(logid, '^[oe]?--- ', { regex: true }),
    searchLog(logid, '^[oe]?\\+\\+\\+ ', { regex: true }),
  ]);
  const sections: Section[] = [];
  let open: number | undefined;
  const groupEvents = [
    ...starts.matches.map((line) => ({ line, open: true })),
    ...ends.matches.map((line) => ({ line, open: false })),
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
  const boundaries = [...starts.matches, ...ends.matches, ...folded.matches, ...unfolded.matches].sort(
    (a, b) => a - b,
  );
  const headers = [
    ...folded.matches.map((line) => ({ line, open: false })),
    ...unfolded.matches.map((line) => ({ line, open: true })),
  ];
  for (const h of headers) {
    const next = boundaries.find((b) => b > h.line) ?? total;
    sections.push({ start: h.line, end: next - 1, open: h.open });
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
