// A StepLog wrapper that feeds each complete output line to parsers (warning counter, test
// result parser…) on its way to storage, so a step counts while it runs rather than
// re-reading its log afterwards.
import type { StepLog } from '../steps/contract.js';
import { type LineConsumer, LineSplitter } from './lines.js';

type Stream = 'o' | 'e' | 'h';

export interface ObservedLogOptions {
  /** Which streams the parsers see (default stdout and stderr, not headers). */
  readonly streams?: readonly Stream[];
  readonly maxLineLength?: number;
}

export class ObservedStepLog implements StepLog {
  readonly #inner: StepLog;
  readonly #consumers: readonly LineConsumer[];
  readonly #streams: ReadonlySet<Stream>;
  readonly #splitters = new Map<Stream, LineSplitter>();
  readonly #maxLineLength: number | undefined;
  /** Complete lines seen on the observed streams: the ETA's progress signal. */
  lines = 0;

  constructor(inner: StepLog, consumers: readonly LineConsumer[], options: ObservedLogOptions = {}) {
    this.#inner = inner;
    this.#consumers = [...consumers];
    this.#streams = new Set(options.streams ?? ['o', 'e']);
    this.#maxLineLength = options.maxLineLength;
  }

  async write(stream: Stream, text: string): Promise<void> {
    if (this.#streams.has(stream)) this.#splitter(stream).push(text);
    await this.#inner.write(stream, text);
  }

  async finish(): Promise<void> {
    for (const s of this.#splitters.values()) s.end();
    await this.#inner.finish();
  }

  #splitter(stream: Stream): LineSplitter {
    let s = this.#splitters.get(stream);
    if (!s) {
      s = new LineSplitter(
        (line) => {
          this.lines++;
          for (const c of this.#consumers) c.line(line);
        },
        this.#maxLineLength === undefined ? {} : { maxLineLength: this.#maxLineLength },
      );
      this.#splitters.set(stream, s);
    }
    return s;
  }
}
