// A StepLog wrapper that hides secrets before output reaches storage, the UI or parsers.
// Each stream is redacted separately, because a secret split across chunks can only be
// reassembled within the stream it was written to.
import type { StepLog } from '../steps/contract.js';
import type { Redactor, StreamRedactor } from './redactor.js';

type Stream = 'o' | 'e' | 'h';

export class RedactingStepLog implements StepLog {
  readonly #inner: StepLog;
  readonly #redactor: Redactor;
  readonly #streams = new Map<Stream, StreamRedactor>();

  constructor(inner: StepLog, redactor: Redactor) {
    this.#inner = inner;
    this.#redactor = redactor;
  }

  async write(stream: Stream, text: string): Promise<void> {
    let r = this.#streams.get(stream);
    if (!r) {
      r = this.#redactor.stream();
      this.#streams.set(stream, r);
    }
    const safe = r.push(text);
    if (safe) await this.#inner.write(stream, safe);
  }

  async finish(): Promise<void> {
    for (const [stream, r] of this.#streams) {
      const rest = r.flush();
      if (rest) await this.#inner.write(stream, rest);
    }
    this.#streams.clear();
    await this.#inner.finish();
  }
}
