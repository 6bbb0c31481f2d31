// Section markers in log lines: `::group::title` … `::endgroup::` (GitHub Actions' markers)
// and `--- title` / `+++ title` headers (Buildkite's: `---` folded, `+++` open), each at the
// start of a line (after a stdio line's o/e stream letter; header lines 'h' are the
// worker's, never a section). Found as lines are appended (LogsData.append), so reading a
// log's sections is one indexed query however long the log is.

export type SectionMarkerKind = 'group' | 'endgroup' | 'folded' | 'unfolded';

export interface SectionMarker {
  /** The line's number in the log, from 0. */
  readonly line: number;
  readonly kind: SectionMarkerKind;
  /** The text after the marker, trimmed and cut to MAX_TITLE_LENGTH ('' for endgroup). */
  readonly title: string;
}

export const MAX_TITLE_LENGTH = 200;

const PREFIXES: readonly [string, SectionMarkerKind][] = [
  ['::group::', 'group'],
  ['::endgroup::', 'endgroup'],
  ['--- ', 'folded'],
  ['+++ ', 'unfolded'],
];
const COLON = 0x3a;
const DASH = 0x2d;
const PLUS = 0x2b;
const STREAM_O = 0x6f;
const STREAM_E = 0x65;

function markerAt(line: string, at: number): { kind: SectionMarkerKind; title: string } | undefined {
  const c = line.charCodeAt(at);
  // Nearly every line fails here, on one character.
  if (c !== COLON && c !== DASH && c !== PLUS) return undefined;
  for (const [prefix, kind] of PREFIXES)
    if (line.startsWith(prefix, at))
      return {
        kind,
        title:
          kind === 'endgroup'
            ? ''
            : line
                .slice(at + prefix.length)
                .trim()
                .slice(0, MAX_TITLE_LENGTH),
      };
  return undefined;
}

/**
 * The markers among `lines` (as stored: stdio ones start with their stream letter), numbered
 * from `firstLine`. A text log's line is read from its start, as the log search does with
 * `^[oe]?` — so `o--- x` in a text log is a header too, as it always was.
 */
export function findSectionMarkers(lines: readonly string[], firstLine: number): SectionMarker[] {
  const found: SectionMarker[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const c = line.charCodeAt(0);
    const m = markerAt(line, 0) ?? (c === STREAM_O || c === STREAM_E ? markerAt(line, 1) : undefined);
    if (m) found.push({ line: firstLine + i, ...m });
  }
  return found;
}
