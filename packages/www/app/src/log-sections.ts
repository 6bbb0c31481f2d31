// Collapsible sections of a log (`::group::name` … `::endgroup::`, the GitHub Actions
// markers many tools print). They are found by the server's search, so a log never has to
// be downloaded to know its sections; the viewer then maps between log lines and the rows
// it shows with the collapsed sections' bodies left out.
import { searchLog } from './api';

export interface Section {
  /** The `::group::` line, which stays shown as the section's header. */
  readonly start: number;
  /** The `::endgroup::` line (or the log's last line for a section never closed). */
  readonly end: number;
}

export const GROUP = '::group::';

export async function findSections(logid: number, total: number): Promise<Section[]> {
  // At the start of a line only (after the stream letter of a stdio line): the worker's
  // header echoing a command that prints a marker is not a section.
  const [starts, ends] = await Promise.all([
    searchLog(logid, '^[oe]?::group::', { regex: true }),
    searchLog(logid, '^[oe]?::endgroup::', { regex: true }),
  ]);
  const events = [
    ...starts.matches.map((line) => ({ line, open: true })),
    ...ends.matches.map((line) => ({ line, open: false })),
  ].sort((a, b) => a.line - b.line);
  const sections: Section[] = [];
  let open: number | undefined;
  // Groups do not nest in the markers' own definition: a new group closes the open one.
  for (const e of events) {
    if (e.open) {
      if (open !== undefined) sections.push({ start: open, end: e.line - 1 });
      open = e.line;
    } else if (open !== undefined) {
      sections.push({ start: open, end: e.line });
      open = undefined;
    }
  }
  if (open !== undefined) sections.push({ start: open, end: Math.max(total - 1, open) });
  return sections.filter((s) => s.end > s.start);
}

/** Rows ↔ lines with the bodies (start+1 … end) of the collapsed sections hidden. */
export class RowMap {
  readonly #hidden: readonly { from: number; to: number }[];

  constructor(
    readonly total: number,
    collapsed: readonly Section[],
  ) {
    this.#hidden = collapsed
      .map((s) => ({ from: s.start + 1, to: Math.min(s.end, total - 1) }))
      .filter((h) => h.to >= h.from)
      .sort((a, b) => a.from - b.from);
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
