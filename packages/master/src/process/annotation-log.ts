// Annotations from a worker-run command: the command writes Markdown to a file, the step
// names it as the logfile `annotation` (`logfiles: { annotation: 'summary.md' }`), and when
// the step ends the log's text becomes an annotation. The worker only sends data: the text
// is stored like any log (redacted), and the UI renders it sanitised. Memory is bounded:
// past 1 MiB the text is only counted, and the annotation is refused.
import { MAX_ANNOTATION_BYTES } from '../data/annotations.js';
import type { LineConsumer } from '../logparsers/lines.js';

/** The logfile name whose content becomes the step's annotation. */
export const ANNOTATION_LOG = 'annotation';

export class AnnotationCollector implements LineConsumer {
  readonly #lines: string[] = [];
  /** Bytes of the text so far, newlines included. */
  bytes = 0;

  line(text: string): void {
    const before = this.bytes;
    this.bytes += Buffer.byteLength(text, 'utf8') + (before > 0 ? 1 : 0);
    if (this.bytes <= MAX_ANNOTATION_BYTES) this.#lines.push(text);
  }

  get tooLarge(): boolean {
    return this.bytes > MAX_ANNOTATION_BYTES;
  }

  get text(): string {
    return this.#lines.join('\n');
  }
}
