/**
 * Cuts a stream of text into whole lines, as the Python worker does before it
 * sends output: carriage-return progress bars and cursor-movement escapes count
 * as line ends, over-long lines are broken, and a trailing partial line waits
 * for more text (or for `flush`, which terminates it with a newline).
 */

/** What the Python worker treats as a line end besides `\n`. */
const lineEnds = /\r\n|\r(?=[^\n])|\x1b\[u|\x1b\[[0-9]+;[0-9]+[Hf]|\x1b\[2J|\x08+/g;

export const DEFAULT_MAX_LINE_LENGTH = 4096;

export class LineSplitter {
  private partial = '';

  constructor(private readonly maxLineLength = DEFAULT_MAX_LINE_LENGTH) {}

  /** Adds text; returns the whole lines now complete (ending in `\n`), or ''. */
  push(text: string): string {
    const all = (this.partial + text).replace(lineEnds, '\n');
    const lastNewline = all.lastIndexOf('\n');
    const complete = all.slice(0, lastNewline + 1);
    let rest = all.slice(lastNewline + 1);
    let out = complete === '' ? '' : this.breakLongLines(complete);
    // A partial line that is already too long is sent in pieces, so a program
    // that never prints a newline cannot make the worker buffer without bound.
    while (rest.length >= this.maxLineLength) {
      out += `${rest.slice(0, this.maxLineLength - 1)}\n`;
      rest = rest.slice(this.maxLineLength - 1);
    }
    this.partial = rest;
    return out;
  }

  /** Returns the pending partial line terminated with `\n`, or ''. */
  flush(): string {
    const rest = this.partial;
    this.partial = '';
    return rest === '' ? '' : `${rest}\n`;
  }

  private breakLongLines(text: string): string {
    if (text.length < this.maxLineLength) return text;
    const lines = text.split('\n');
    lines.pop(); // text ends with '\n'
    let out = '';
    for (let line of lines) {
      while (line.length >= this.maxLineLength) {
        out += `${line.slice(0, this.maxLineLength - 1)}\n`;
        line = line.slice(this.maxLineLength - 1);
      }
      out += `${line}\n`;
    }
    return out;
  }
}
