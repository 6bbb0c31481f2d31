// ANSI colour (SGR) sequences in log lines, turned into styled spans. Other escape
// sequences are dropped rather than shown as garbage.
import type { JSX } from 'preact';

interface Style {
  fg?: number;
  bg?: number;
  bold?: boolean;
}

const ESCAPE = /\x1b\[([0-9;]*)([A-Za-z])/g;

function apply(style: Style, codes: number[]): Style {
  const next = { ...style };
  if (codes.length === 0) codes = [0];
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c === 0) {
      delete next.fg;
      delete next.bg;
      delete next.bold;
    } else if (c === 1) next.bold = true;
    else if (c === 22) delete next.bold;
    else if ((c >= 30 && c <= 37) || (c >= 90 && c <= 97)) next.fg = c;
    else if (c === 39) delete next.fg;
    else if ((c >= 40 && c <= 47) || (c >= 100 && c <= 107)) next.bg = c;
    else if (c === 49) delete next.bg;
    else if ((c === 38 || c === 48) && codes[i + 1] === 5)
      i += 2; // 256 colours: not rendered
    else if ((c === 38 || c === 48) && codes[i + 1] === 2) i += 4; // true colour: not rendered
  }
  return next;
}

function classes(s: Style): string {
  return [s.fg ? `ansi-fg-${s.fg}` : '', s.bg ? `ansi-bg-${s.bg}` : '', s.bold ? 'ansi-bold' : '']
    .filter(Boolean)
    .join(' ');
}

/** The line as text and spans; plain text stays one string (the common case, and cheap). */
export function renderAnsi(line: string): string | JSX.Element[] {
  if (!line.includes('\x1b')) return line;
  const parts: JSX.Element[] = [];
  let style: Style = {};
  let last = 0;
  let key = 0;
  for (const m of line.matchAll(ESCAPE)) {
    if (m.index > last)
      parts.push(
        <span key={key++} class={classes(style)}>
          {line.slice(last, m.index)}
        </span>,
      );
    if (m[2] === 'm') style = apply(style, m[1]!.split(';').filter(Boolean).map(Number));
    last = m.index + m[0].length;
  }
  if (last < line.length)
    parts.push(
      <span key={key++} class={classes(style)}>
        {line.slice(last)}
      </span>,
    );
  return parts;
}
