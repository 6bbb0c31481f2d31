// Turns output chunks into lines for the parsers, with bounded memory: a line longer than
// `maxLineLength` is cut there and the rest is delivered as further lines.

export class LineSplitter {
  #partial = '';
  readonly #maxLineLength: number;
  readonly #onLine: (line: string) => void;

  constructor(onLine: (line: string) => void, options: { maxLineLength?: number } = {}) {
    this.#onLine = onLine;
    this.#maxLineLength = options.maxLineLength ?? 64 * 1024;
  }

  push(chunk: string): void {
    let text = this.#partial + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.#emit(text.slice(start, nl));
      start = nl + 1;
    }
    text = text.slice(start);
    while (text.length > this.#maxLineLength) {
      this.#onLine(text.slice(0, this.#maxLineLength));
      text = text.slice(this.#maxLineLength);
    }
    this.#partial = text;
  }

  /** Delivers a last line that had no newline. */
  end(): void {
    if (this.#partial) this.#emit(this.#partial);
    this.#partial = '';
  }

  #emit(line: string): void {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    for (let i = 0; i < line.length; i += this.#maxLineLength)
      this.#onLine(line.slice(i, i + this.#maxLineLength));
    if (line.length === 0) this.#onLine('');
  }
}

// CSI and OSC sequences, which colouring reporters (FORCE_COLOR, a TTY worker) emit.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

export function stripAnsi(line: string): string {
  return line.includes('\u001b') ? line.replace(ANSI, '') : line;
}

/** Anything fed output line by line. */
export interface LineConsumer {
  line(text: string): void;
}

/** Feeds a whole text (e.g. a captured log) to a consumer line by line. */
export function feedText(consumer: LineConsumer, text: string): void {
  const s = new LineSplitter((l) => consumer.line(l));
  s.push(text);
  s.end();
}
